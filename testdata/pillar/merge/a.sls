settings:
  list: [1, 2, 3]
  nested: {x: 1, y: 1}
  scalar: from-a
  replaced_by_scalar: {k: v}
only_a: true

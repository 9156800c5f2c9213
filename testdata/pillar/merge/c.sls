settings:
  scalar: from-c
  nested: {x: 3}

include:
  - ..shared
members: [node1, node2]

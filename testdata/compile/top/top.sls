base:
  '*':
    - common
  'node2':
    - match: glob
    - cluster
  'G@role:web':
    - web
  'node1,node3':
    - match: list
    - other
  'node*':
    - common
    - cluster
dev:
  '*':
    - devonly

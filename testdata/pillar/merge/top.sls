base:
  '*':
    - a
    - b
  'node1':
    - c
    - a
  'web*':
    - web
  'I@env:prod':
    - prod

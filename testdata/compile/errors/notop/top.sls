base:
  'node9':
    - x

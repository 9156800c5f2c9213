base:
  'G@role:web and':
    - x

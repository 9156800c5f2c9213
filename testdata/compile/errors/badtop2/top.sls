base:
  '*':
    - match: regex
    - x

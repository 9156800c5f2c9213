base:
  '*':
    - nothere

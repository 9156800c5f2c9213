include:
  - .a
  - .b

include:
  - nothere
x: test.nop

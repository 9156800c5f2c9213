member:
  demo.member:
    - address: 10.0.0.1
x:
  test.nop:
    - require:
      - test: member

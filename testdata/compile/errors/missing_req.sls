x:
  test.nop:
    - require:
      - test: node9

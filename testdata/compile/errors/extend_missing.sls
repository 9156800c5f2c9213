memeber-x: test.nop
extend:
  member-x:
    test:
      - nop

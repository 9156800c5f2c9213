hard:
  test.nop:
    - failhard: true
    - timeout: 30
quick:
  test.nop:
    - timeout: 0.5

no_trailing_newline:
  test.nop:
    - id: {{ grains.id }}
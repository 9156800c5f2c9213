bad:
  test.nop:
    - value: {{ undefined_variable }}

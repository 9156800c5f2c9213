x:
  test.nop:
    - require:
      - sls: incus.settings

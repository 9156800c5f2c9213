a:
  test.nop:
    - x: {{ pillar['incus'] | yaml_encode }}

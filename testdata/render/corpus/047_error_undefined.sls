bad:
  test.nop:
    - value: {{ pillar['incus']['cluster_addr'] }}

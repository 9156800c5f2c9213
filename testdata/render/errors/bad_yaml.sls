a:
  test.nop:
    - password: {{ pillar['cluster_password'] }}
    - x: [unclosed
b: c

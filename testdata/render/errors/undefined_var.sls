a:
  test.nop:
    - x: {{ nodes_list }}

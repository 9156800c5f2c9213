{% set members = ['node1', 'node2', 'node3'] %}
{% set cfg = {'a': 1, 'b': 'two', 'c': [1, 2], 'd': {'e': None, 'f': True}} %}
{% set t = (1, 'x') %}
literals:
  test.nop:
    - members: {{ members }}
    - cfg: {{ cfg }}
    - count: {{ members | length }}
    - second: {{ members[1] }}
    - slice: {{ members[1:] }}
    - cfg_c: {{ cfg.c }}
    - cfg_e: {{ cfg['d']['e'] }}
    - tuple: {{ t }}
    - empty_list: {{ [] }}
    - empty_dict: {{ {} }}

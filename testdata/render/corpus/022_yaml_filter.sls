{% set data = {'name': 'x', 'list': [1, 'two', 'yes', '', 'a: b'], 'nested': {'k': None, 'f': 1.0, 'on': 'off'}} %}
flow:
  test.nop:
    - data: {{ data | yaml }}
    - members: {{ pillar['incus']['storage_pools']['local'] | yaml }}
    - scalar: {{ 'text' | yaml }}
    - num: {{ 5 | yaml }}
block:
  test.nop:
    - data:
{{ data | yaml(False) | indent(8, True) }}

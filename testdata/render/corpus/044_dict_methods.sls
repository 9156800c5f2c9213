{% set m = pillar['incus']['cluster_members'] %}
dicts:
  test.nop:
    - keys: {{ m.keys() | list }}
    - values: {{ m.values() | map(attribute='address') | list }}
    - has: {{ 'node2' in m }}
    - hasnot: {{ 'node9' in m }}
    - len: {{ m | length }}
    - get: {{ m.get('node9', {}).get('address', 'none') }}
    - items: {{ m.items() | list | length }}
    - copy: {{ m.copy() | length }}

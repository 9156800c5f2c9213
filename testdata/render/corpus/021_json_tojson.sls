{% set data = {'a': None, 'b': [1, 2.5, 'x'], 'c': {'f': False, 't': True}, 'u': 'é<>&\''} %}
json:
  test.nop:
    - json: {{ data | json }}
    - tojson: {{ data | tojson }}
    - pillar: {{ pillar['incus']['cluster_members'] | json }}
    - list: {{ grains['ipv4'] | tojson }}
    - str: {{ 'plain' | json }}

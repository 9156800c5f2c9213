{# Pillar and grains dicts iterate in their files' key order, as Salt's
   Python dicts do, not sorted. #}
{% for name, m in pillar['incus']['cluster_members'].items() %}
member-{{ loop.index }}-{{ name }}:
  incus.cluster_member_present:
    - address: {{ m['address'] }}
    - fields: "{% for k in m %}{{ k }} {% endfor %}"
{% endfor %}
{% for pool in salt['pillar.get']('incus:storage_pools') %}
pool-{{ loop.index }}-{{ pool }}:
  test.nop: []
{% endfor %}
{% for net in pillar['incus']['networks'] %}
net-{{ net.name }}:
  test.nop:
    - fields: {{ net | list }}
    - repr: "{{ net }}"
{% endfor %}
order:
  test.nop:
    - pillar: {{ pillar.keys() | list }}
    - incus: {{ pillar['incus'] | list }}
    - grains: "{{ grains | join(' ') }}"
    - config: "{{ pillar['incus']['server_settings']['config'] }}"
    - members: "{{ pillar['incus']['cluster_members'] }}"
    - values: "{% for v in pillar['flags'].values() %}{{ v }} {% endfor %}"
    - items: "{{ salt['pillar.items']()['flags'].items() | list }}"
{% set merged = salt['pillar.get']('incus:cluster_members', default={'node9': {}, 'node3': {'weight': 1}}, merge=True) %}
    - merged: "{% for k, v in merged.items() %}{{ k }}={{ v | list | join(',') }} {% endfor %}"
    - item: "{{ salt['grains.item']('os', 'id') }}"
    - tojson: {{ pillar['incus']['cluster_members']['node3'] | tojson }}
    - json: {{ pillar['incus']['cluster_members']['node3'] | json }}
    - dictsort: "{% for k, v in pillar['incus']['cluster_members'] | dictsort %}{{ k }} {% endfor %}"

{% for name, member in pillar['incus']['cluster_members'].items() %}
{{ name }}:
  incus.cluster_member_present:
    - address: {{ member['address'] }}
    - cluster_password: {{ pillar['cluster_password'] }}
{% if member.description is defined %}
    - description: {{ member.description }}
{% endif %}
{% endfor %}
{% for key in pillar['incus']['storage_pools'] %}
pool_{{ key }}:
  test.nop:
    - driver: {{ pillar['incus']['storage_pools'][key]['driver'] }}
{% endfor %}

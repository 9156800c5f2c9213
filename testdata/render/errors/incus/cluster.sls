{% set members = pillar['incus']['cluster_members'] %}
{% for name, member in members.items() %}
{{ name }}:
  incus.cluster_member_present:
    - address: {{ member['address'] }}
    - cluster_password: {{ pillar['cluster_password'] | yaml_encode }}
{% endfor %}
{{ grains['id'] }}-settings:
  incus.settings:
    - config:
        cluster.https_address: {{ pillar['incus']['cluster_addr'] }}
        core.https_address: "[::]:8443"

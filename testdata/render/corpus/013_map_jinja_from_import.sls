{% from "lib/map.jinja" import incus, addr, member_id with context %}
{% from "lib/map.jinja" import incus as incus2 %}
cluster:
  test.nop:
    - port: {{ incus.port }}
    - bootstrap: {{ incus.bootstrap }}
    - addr: {{ addr }}
    - id: {{ member_id(grains['id']) }}
    - members: {{ incus.cluster_members | length }}
    - same: {{ incus2.port == incus.port }}

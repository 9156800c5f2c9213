# Bootstrap node
{% if grains['id'] == 'incus-node1' %}
incus_bootstrap:
  server_settings:
    config:
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      core.https_address: "{{ grains['ipv4'][0] }}:8443"
{% endif %}

# Joining nodes
{% if grains['id'] in ['incus-node2', 'incus-node3'] %}
incus_join:
  cluster_members:
    {{ grains['id'] }}:
      address: "{{ grains['ipv4'][0] }}"
      cluster_password: "{{ pillar['cluster_password'] }}"
{% endif %}

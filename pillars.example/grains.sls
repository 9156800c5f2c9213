# Guide "Per-Node Configuration with Grains", plus one key. incus-node1
# bootstraps because its pillar has incus_bootstrap, it is not in
# cluster_members and its ipv4 grain is its cluster.https_address
# (states/incus/map.jinja). A joiner's pillar, as the guide prints it,
# says nothing of the bootstrap node (neither name nor address), so the
# joiners name it with incus:cluster:bootstrap; without it their render
# fails naming that key.

# Bootstrap node
{% if grains['id'] == 'incus-node1' %}
incus_bootstrap:
  server_settings:
    config:
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      core.https_address: "[::]:8443"
{% endif %}

# Joining nodes
{% if grains['id'] in ['incus-node2', 'incus-node3'] %}
incus_join:
  cluster_members:
    {{ grains['id'] }}:
      address: "{{ grains['ipv4'][0] }}"
      cluster_password: "{{ pillar['cluster_password'] }}"

incus:
  cluster:
    bootstrap: incus-node1
{% endif %}

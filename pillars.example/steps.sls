# Guide "Cluster Setup", steps 1 and 2: the bootstrap node's settings,
# then the joining nodes. core.trust_password is skipped with a comment:
# Incus has no trust password.
{% if grains['id'] == 'node1' %}
incus:
  server_settings:
    config:
      core.https_address: "[::]:8443"
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      core.trust_password: "cluster-secret-password"
  cluster:
    bootstrap: node1
{% else %}
incus:
  cluster_members:
    node2:
      address: 192.168.1.102
      cluster_password: cluster-secret-password
  cluster:
    bootstrap: node1
{% endif %}

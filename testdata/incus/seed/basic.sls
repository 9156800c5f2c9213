# Bootstrap node (node1)
incus_bootstrap:
  server_settings:
    config:
      cluster.https_address: "127.0.0.11:8443"
      core.https_address: "127.0.0.11:8443"

# Joining nodes (node2, node3)
incus_cluster:
  cluster_members:
    node2:
      address: 127.0.0.12
      cluster_password: "{{ pillar['cluster_secret'] }}"
      description: Cluster node 2

    node3:
      address: 127.0.0.13
      cluster_password: "{{ pillar['cluster_secret'] }}"
      description: Cluster node 3

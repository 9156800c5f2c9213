# Guide "Basic 3-Node Cluster". node1 bootstraps: it has incus_bootstrap
# and is not in cluster_members (see states/incus/map.jinja). The joining
# nodes need its name: incus:cluster:bootstrap (statectl's addition).

# Bootstrap node (node1)
incus_bootstrap:
  server_settings:
    config:
      cluster.https_address: "192.168.1.101:8443"
      core.https_address: "[::]:8443"

# Joining nodes (node2, node3)
incus_cluster:
  cluster_members:
    node2:
      address: 192.168.1.102
      cluster_password: "{{ pillar['cluster_secret'] }}"
      description: Cluster node 2

    node3:
      address: 192.168.1.103
      cluster_password: "{{ pillar['cluster_secret'] }}"
      description: Cluster node 3

incus:
  cluster:
    bootstrap: node1

# Guide "Basic 3-Node Cluster", as printed. node1 bootstraps: its pillar
# has incus_bootstrap, it is not in cluster_members and its address is
# the cluster.https_address below (states/incus/map.jinja). node2 and
# node3 join through the roster entry at that address (its url, or the
# incus_address grain statectl lab writes); incus:cluster:bootstrap:
# node1 would name it outright.

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

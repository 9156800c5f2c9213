# Written by statectl lab up: the lab cluster, in the shape states/incus reads.
incus:
  cluster:
    name: statectl-lab
    bootstrap: node1
    address: 127.0.9.11:8443
  cluster_members:
    node1:
      address: 127.0.9.11:8443
      description: statectl lab member node1
    node2:
      address: 127.0.9.12:8443
      description: statectl lab member node2
    node3:
      address: 127.0.9.13:8443
      description: statectl lab member node3
  server_settings:
    config:
      cluster.offline_threshold: "20"
      images.auto_update_interval: "0"

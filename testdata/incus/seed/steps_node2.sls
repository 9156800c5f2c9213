# On node2, node3, etc.
incus:
  cluster_members:
    node2:
      address: 127.0.0.12
      cluster_password: cluster-secret-password

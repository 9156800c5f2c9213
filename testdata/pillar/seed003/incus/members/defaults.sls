incus:
  cluster_members:
    incus-node3:
      address: 0.0.0.0
      description: placeholder replaced by the including file
  member_defaults:
    force: false

include:
  - .defaults

incus:
  cluster_members:
    incus-node2:
      address: 172.16.0.102
      cluster_password: "{{ pillar['cluster_password'] }}"
    incus-node3:
      address: 172.16.0.103
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Storage node - Ceph OSD

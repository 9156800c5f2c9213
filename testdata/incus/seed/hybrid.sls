incus:
  cluster_members:
    # Compute nodes (high CPU/RAM)
    compute-01:
      address: 127.0.0.101
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Compute node - 64 cores, 256GB RAM

    compute-02:
      address: 127.0.0.102
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Compute node - 64 cores, 256GB RAM

    # Storage nodes (Ceph OSDs)
    storage-01:
      address: 127.0.0.111
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Storage node - Ceph OSD

    storage-02:
      address: 127.0.0.112
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Storage node - Ceph OSD

    # Network node (OVN gateway)
    network-01:
      address: 127.0.0.121
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Network node - OVN gateway

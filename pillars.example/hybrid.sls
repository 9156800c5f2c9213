# Guide "Hybrid Cluster (Specialized Roles)". compute-01 bootstraps and is
# a member itself. Roles and groups are statectl additions showing how a
# member's specialisation is declared.
incus:
  cluster:
    bootstrap: compute-01

  cluster_members:
    # Compute nodes (high CPU/RAM)
    compute-01:
      address: 10.0.1.101
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Compute node - 64 cores, 256GB RAM

    compute-02:
      address: 10.0.1.102
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Compute node - 64 cores, 256GB RAM

    # Storage nodes (Ceph OSDs)
    storage-01:
      address: 10.0.1.111
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Storage node - Ceph OSD
      groups: [default, storage]

    storage-02:
      address: 10.0.1.112
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Storage node - Ceph OSD
      groups: [default, storage]

    # Network node (OVN gateway)
    network-01:
      address: 10.0.1.121
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Network node - OVN gateway
      roles: [ovn-chassis]

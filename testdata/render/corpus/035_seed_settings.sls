incus:
  server_settings:
    config:
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      cluster.offline_threshold: "120"        # 2 minutes
      cluster.images_minimal_replica: "3"     # 3 image copies
      cluster.max_voters: "5"                 # 5 Raft voters
      core.trust_password: "cluster-secret-password"

  cluster_members:
    node-02:
      address: 172.16.0.102
      cluster_password: "{{ pillar['cluster_password'] }}"
      description: Compute node - 64 cores, 256GB RAM
    node-03:
      address: 172.16.0.103
      cluster_password: "{{ pillar['encrypted_cluster_password'] | replace('"', '') }}"

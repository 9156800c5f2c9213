incus:
  server_settings:
    config:
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      cluster.offline_threshold: "120"        # 2 minutes
      cluster.images_minimal_replica: "3"     # 3 image copies
      cluster.max_voters: "5"                 # 5 Raft voters
      cluster.max_standby: "2"                # 2 standby members
      cluster.healing_threshold: "0"          # Auto-healing

  cluster_members:
    node-02:
      address: 127.0.0.102
      cluster_password: "{{ pillar['cluster_password'] }}"
    node-03:
      address: 127.0.0.103
      cluster_password: "{{ pillar['cluster_password'] }}"
    node-04:
      address: 127.0.0.104
      cluster_password: "{{ pillar['cluster_password'] }}"
    node-05:
      address: 127.0.0.105
      cluster_password: "{{ pillar['cluster_password'] }}"

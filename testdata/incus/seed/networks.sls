incus:
  networks:
    # OVN network (spans entire cluster)
    ovn-cluster:
      network_type: ovn
      config:
        network: ovn-uplink
        ipv4.address: 10.200.0.1/16
        ipv4.nat: "true"
        dns.domain: cluster.local
      description: Cluster-wide OVN network

    # Local bridge (per-node)
    lxdbr0:
      network_type: bridge
      config:
        ipv4.address: 10.0.0.1/24
        ipv4.nat: "true"
      description: Local bridge network

# Guide "Cluster Storage Configuration" and "Cluster Networks", as printed,
# on top of the "Basic 3-Node Cluster" (top.sls gives the shared scenario
# both files). states/incus/storage.sls and networks.sls converge them on
# every member: member-specific keys (source here) are each target's own,
# so a grain could make them differ ("source: /srv/{{ grains['id'] }}"), or
# a members: {node1: {source: ...}, ...} map gives them all at once.
# Only dir pools and macvlan networks have been run against real daemons;
# ceph and ovn below are as the guide prints them and need those backends.
incus:
  storage_pools:
    # Local storage (per node)
    local:
      driver: dir
      config:
        source: /var/lib/incus/storage-pools/local
      description: Local storage pool

    # Shared Ceph storage (cluster-wide)
    ceph-pool:
      driver: ceph
      config:
        source: incus
        ceph.cluster_name: ceph
        ceph.osd.pg_num: "32"
        ceph.rbd.clone_copy: "true"
      description: Shared Ceph storage pool

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

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

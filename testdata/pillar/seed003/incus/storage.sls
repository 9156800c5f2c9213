incus:
  storage_pools:
    ceph-pool:
      driver: ceph
      config:
        source: incus
        ceph.osd.pg_num: "32"
      description: Shared Ceph storage pool

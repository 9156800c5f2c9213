# Maintenance (docs/guide.md "Rolling updates"): a 3-member cluster whose
# members are upgraded one by one with
#   statectl apply '*' incus.maintenance --batch 1
# incus:maintenance:command runs on the machine statectl runs on, once per
# member, between its evacuation and its restore; {{ grains['id'] }} is
# the member. On a lab: statectl lab restart {{ grains['id'] }} --dir ./lab
incus:
  cluster:
    bootstrap: node1
  maintenance:
    command: "ssh root@{{ grains['id'] }} apt-get install -y incus"
    mode: auto
    online_wait: 300
  cluster_members:
    node1:
      address: 192.168.1.101
    # Held in maintenance: incus.cluster keeps it evacuated, and
    # incus.maintenance does not restore it.
    node2:
      address: 192.168.1.102
      maintenance: true
    # Restored by incus.cluster; a member without the key is left as the
    # operator put it (a watch loop never undoes a hand-run evacuation).
    node3:
      address: 192.168.1.103
      maintenance: false

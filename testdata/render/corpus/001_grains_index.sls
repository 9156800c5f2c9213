{{ grains['id'] }}:
  incus.cluster_member_present:
    - address: {{ grains['ipv4'][0] }}:8443
    - last: {{ grains['ipv4'][-1] }}
    - ipv6: {{ grains.ipv6[1] }}

incus:
  server_settings:
    config:
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      cluster.offline_threshold: "120"
      cluster.max_voters: "5"

# On first node (e.g., node1)
incus:
  server_settings:
    config:
      core.https_address: "[::]:8443"
      cluster.https_address: "{{ grains['ipv4'][0] }}:8443"
      core.trust_password: "cluster-secret-password"

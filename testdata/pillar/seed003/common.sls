cluster_password: cluster-secret-password
incus:
  server_settings:
    config:
      core.https_address: "[::]:8443"

cluster_secret: example-cluster-secret
cluster_password: example-cluster-password
encrypted_cluster_password: example-encrypted-cluster-password

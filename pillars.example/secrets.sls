# Example secrets referenced by the scenarios. Keep real ones out of Git
# (a separate pillar root, or gpg-encrypted values).
#
# cluster_secret / cluster_password feed the guide's cluster_password
# arguments: statectl accepts and ignores them (Incus joins with single-use
# tokens it mints itself) and never prints them.
cluster_secret: example-cluster-secret
cluster_password: example-cluster-password

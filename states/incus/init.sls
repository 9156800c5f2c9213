# incus: cluster membership first (bootstrap sets its own cluster address),
# then server settings, applied on a clustered member once it is one, then
# the cluster's storage pools and networks (each requires the target's own
# cluster state).
include:
  - .cluster
  - .settings
  - .storage
  - .networks

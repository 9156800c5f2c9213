# incus: cluster membership first (bootstrap sets its own cluster address),
# then server settings, applied on a clustered member once it is one.
include:
  - .cluster
  - .settings

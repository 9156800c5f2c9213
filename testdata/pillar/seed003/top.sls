base:
  '*':
    - common
    - incus.pernode
  'incus-node*':
    - incus.members
  'os:Debian':
    - match: grain
    - incus.settings
  'G@role:storage or L@incus-node3':
    - incus.storage

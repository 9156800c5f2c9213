# Written by statectl lab up.
base:
  '*':
    - incus

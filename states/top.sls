base:
  '*':
    - incus

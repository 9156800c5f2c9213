a:
  demo.member:
    - address: x
    - use:
      - demo: b
b:
  demo.member:
    - use:
      - demo: a

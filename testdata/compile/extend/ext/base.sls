member:
  demo.member:
    - address: 10.0.0.1
    - port: 1
    - require:
      - test: one
one: test.nop
two: test.nop
gone: test.nop
pkgs:
  pkg.installed: []

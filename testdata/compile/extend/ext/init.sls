include:
  - .base
  - .dropped

exclude:
  - id: gone
  - sls: ext.dropped

extend:
  member:
    demo.member:
      - port: 2
      - require:
        - test: two
  one:
    test:
      - succeed_without_changes
  pkgs:
    pkg:
      - version: "2.0"
    test.nop: []

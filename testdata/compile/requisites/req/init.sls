include:
  - .other

a:
  test.nop:
    - require:
      - test: b
      - realname
b:
  test.nop:
    - watch_in:
      - c
c:
  test.nop:
    - onchanges:
      - sls: req.other
    - onfail_in:
      - test: a
p:
  test.nop:
    - prereq:
      - test: a
base-member:
  demo.member:
    - address: 10.0.0.9
    - port: 8443
    - force: true
    - use_in:
      - demo: user2
user:
  demo.member:
    - address: 10.0.0.10
    - use:
      - demo: base-member
user2:
  demo.member:
    - address: 10.0.0.11
    - require:
      - id: user
      - test: b
      - test: b

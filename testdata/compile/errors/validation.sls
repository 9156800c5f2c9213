bad-module:
  tset.nop: []
bad-function:
  test.nopp: []
missing-arg:
  demo.member:
    - port: 8443
wrong-types:
  demo.member:
    - address: [10.0.0.1]
    - password: {secret: hunter2}
    - force: "yes"
    - port: "8443"
    - tags: [[a]]
    - config: [a]
    - items: {a: 1}
unknown-arg:
  demo.member:
    - adress: 10.0.0.1
    - address: 10.0.0.1
salt-keyword:
  test.nop:
    - onlyif: /bin/true
module-validate:
  demo.member:
    - address: 10.0.0.1
    - port: 70000
null-required:
  demo.member:
    - address:

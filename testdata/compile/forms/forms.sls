short: test.nop

long-form:
  test:
    - succeed_without_changes

multi:
  test.nop: []
  pkg.installed:
    - version: "1.0"

named:
  demo.member:
    - address: 10.0.0.1
    - names:
      - node1
      - node2:
        - address: 10.0.0.2
        - port: 8443
      - node3: {force: true}

with-name:
  demo.member:
    - name: real-name
    - address: 1.2.3.4
    - tags: [a, b]
    - config: {k: v, n: 1}
    - items: [1, two]

empty-args:
  test.nop:

not-a-map: [a, b]
no-function:
  test:
    - order: 1
two-functions:
  test:
    - nop
    - succeed_without_changes
multi-key:
  test.nop:
    - {a: 1, b: 2}
dup-arg:
  test.nop:
    - order: 1
    - order: 2
both-names:
  test.nop:
    - name: x
    - names: [a, b]
bad-order:
  test.nop:
    - order: 0
bad-timeout:
  test.nop:
    - timeout: soon
bad-failhard:
  test.nop:
    - failhard: "yes"
bad-req:
  test.nop:
    - require:
      - test: [a]
args-map:
  test.nop:
    order: 1

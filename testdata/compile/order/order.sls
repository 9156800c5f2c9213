u1: test.nop
l:
  test.nop:
    - order: last
n10:
  test.nop:
    - order: 10
f:
  test.nop:
    - order: first
n2:
  test.nop:
    - order: 2
u2:
  test.nop:
    - require:
      - u3
dummy: test.nop
u3: test.nop
pre:
  test.nop:
    - prereq:
      - u1
needs-last:
  test.nop:
    - order: first
    - require:
      - test: l2
l2:
  test.nop:
    - order: last

dup:
  test.nop
other:
  test.nop
dup:
  test.succeed_without_changes

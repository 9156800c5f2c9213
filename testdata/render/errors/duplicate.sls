node2:
  test.nop
{{ grains['id'] }}:
  test.succeed_without_changes

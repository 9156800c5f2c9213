app-config:
  test.nop: []
app-config-2:
  test.nop: []

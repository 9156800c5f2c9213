include:
  - .db
  - common

app-run:
  test.nop: []

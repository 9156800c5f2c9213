include:
  - .config
  - ..common

db-schema:
  test.succeed_without_changes: []

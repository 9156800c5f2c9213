include:
  - .members
enabled: true

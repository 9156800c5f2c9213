unique:
  test.nop:
    - users: {{ pillar['users'] | unique }}
    - joined: {{ pillar['users'] | unique | join(',') }}
    - nums: {{ [3, 1, 3, 2, 1] | unique }}

bools:
  test.nop:
    - enabled: {{ pillar['flags']['enabled'] | to_bool }}
    - debug: {{ pillar['flags']['debug'] | to_bool }}
    - level: {{ pillar['flags']['level'] | to_bool }}
    - one: {{ '1' | to_bool }}
    - true: {{ 'TRUE' | to_bool }}
    - int: {{ 3 | to_bool }}
    - zero: {{ 0 | to_bool }}
    - none: {{ None | to_bool }}
    - list: {{ [1] | to_bool }}
    - empty: {{ [] | to_bool }}

defaults:
  test.nop:
    - missing_attr: {{ pillar.no_such | default('d1') }}
    - undefined_var: {{ no_such_var | default('d2') }}
    - defined: {{ grains.id | default('d3') }}
    - none_kept: {{ pillar['incus']['nothing'] | default('d4') }}
    - none_bool: {{ pillar['incus']['nothing'] | default('d5', true) }}
    - empty_bool: {{ '' | default('d6', boolean=True) }}
    - short: {{ undefined_thing | d('d7') }}
    - empty: "{{ pillar.nope | default }}"

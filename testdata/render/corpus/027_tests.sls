tests:
  test.nop:
    - defined: {{ grains.id is defined }}
    - undefined: {{ grains.nope is defined }}
    - var_undefined: {{ nope is undefined }}
    - not_defined: {{ pillar.incus.bootstrap is not defined }}
    - none: {{ pillar['incus']['nothing'] is none }}
    - none_defined: {{ pillar['incus']['nothing'] is defined }}
    - mapping: {{ pillar.incus is mapping }}
    - string: {{ grains.id is string }}
    - number: {{ grains.num_cpus is number }}
    - eq: {{ grains.id is equalto 'node2' }}
    - odd: {{ 3 is odd }}

attr_calls:
  test.nop:
    - bootstrap: {{ salt.pillar.get('incus:bootstrap') }}
    - os: {{ salt.grains.get('os') }}
    - cpus: {{ salt.grains.get('num_cpus') + 1 }}

incus-settings:
  test.configurable_test_state:
    - comment: {{ sls }} for {{ grains['id'] }} in {{ slspath }}
    - changes: {{ salt['pillar.get']('incus:apply', False) }}

items:
  test.nop:
    - item: {{ salt['grains.item']('os', 'id') | json }}
    - pitem: {{ salt['pillar.item']('cluster_password') | json }}
    - config_opt: {{ salt['config.get']('incus_socket') }}
    - config_grain: {{ salt['config.get']('os_family') }}
    - config_pillar: {{ salt['config.get']('incus:bootstrap') }}
    - config_missing: {{ salt['config.get']('nope', 'cdef') }}
    - opts: {{ opts['renderer'] }}

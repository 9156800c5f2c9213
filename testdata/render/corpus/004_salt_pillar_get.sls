members:
  test.nop:
    - address: {{ salt['pillar.get']('incus:cluster_members:node2:address') }}
    - missing: "{{ salt['pillar.get']('incus:cluster_members:node9:address') }}"
    - default: {{ salt['pillar.get']('incus:cluster_members:node9:address', '0.0.0.0') }}
    - kwdefault: {{ salt['pillar.get']('incus:nope', default='kw') }}
    - listidx: {{ salt['pillar.get']('incus:ports:1') }}
    - embedded: {{ salt['pillar.get']('incus:networks:type') }}
    - delim: {{ salt['pillar.get']('incus/bootstrap', delimiter='/') }}
    - whole: {{ salt['pillar.get']('incus:server_settings:config') | json }}

settings:
  test.nop:
    - password: {{ pillar.get('cluster_password', 'unset') }}
    - missing: {{ pillar.get('no_such_key', 'fallback') }}
    - none: {{ pillar.get('no_such_key') }}
    - nested: {{ pillar.get('incus', {}).get('bootstrap') }}
    - nothing: {{ pillar['incus']['nothing'] }}

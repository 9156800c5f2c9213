{# diff: data-only #}
{# Known gap: the yaml filter never wraps long flow-style lines at 80
   columns as PyYAML does; the loaded data is the same. #}
wrapped:
  test.nop:
    - members: {{ pillar['incus']['cluster_members'] | yaml }}

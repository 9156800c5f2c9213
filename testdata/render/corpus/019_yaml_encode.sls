encode:
  test.nop:
    - colon: {{ pillar['cluster_secret'] | yaml_encode }}
    - quotes: {{ pillar['encrypted_cluster_password'] | yaml_encode }}
    - yes: {{ pillar['flags']['enabled'] | yaml_encode }}
    - int: {{ 42 | yaml_encode }}
    - float: {{ 1.5 | yaml_encode }}
    - bool: {{ True | yaml_encode }}
    - none: {{ None | yaml_encode }}
    - unicode: {{ 'café ☕' | yaml_encode }}
    - newline: {{ 'a\nb\tc' | yaml_encode }}
    - numstr: {{ '0755' | yaml_encode }}

quote:
  test.nop:
    - d1: {{ pillar['cluster_secret'] | yaml_dquote }}
    - d2: {{ pillar['encrypted_cluster_password'] | yaml_dquote }}
    - s1: {{ pillar['cluster_secret'] | yaml_squote }}
    - s2: {{ pillar['encrypted_cluster_password'] | yaml_squote }}
    - s3: {{ 'two\nlines' | yaml_squote }}
    - d3: {{ 'no' | yaml_dquote }}
    - d4: {{ 'tab\there é' | yaml_dquote }}

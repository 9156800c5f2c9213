access:
  test.nop:
    - attr: {{ pillar.incus.cluster_members.node2.address }}
    - item: {{ pillar['incus']['cluster_members']['node2']['address'] }}
    - mixed: {{ pillar.incus['cluster_members'].node3['description'] }}
    - dotted_key: "{{ pillar.incus.server_settings.config['core.https_address'] }}"
    - var_key: {% set k = 'node4' %}{{ pillar.incus.cluster_members[k].address }}
    - list_attr: {{ pillar.incus.networks[0].name }}

{% if grains['id'] in ['incus-node2', 'node2', 'node3'] %}
joining:
  test.nop:
    - name: {{ grains['id'] }} joins
{% elif grains['id'] == 'node1' %}
bootstrap:
  test.nop
{% else %}
other:
  test.nop
{% endif %}
{% if 'compute' in grains['roles'] and grains['os'] != 'RedHat' %}
compute:
  test.nop:
    - cpus: {{ grains['num_cpus'] }}
{% endif %}
{% if 'node9' not in pillar['incus']['cluster_members'] %}
no_node9:
  test.nop
{% endif %}

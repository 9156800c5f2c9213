{% set ns = namespace(found=false, count=0) %}
{% for name, m in pillar['incus']['cluster_members'].items() %}
{% if name == grains['id'] %}{% set ns.found = true %}{% endif %}
{% set ns.count = ns.count + 1 %}
{% endfor %}
ns:
  test.nop:
    - found: {{ ns.found }}
    - count: {{ ns.count }}

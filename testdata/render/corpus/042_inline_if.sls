inline:
  test.nop:
    - role: {{ 'bootstrap' if grains['id'] == pillar['incus']['bootstrap'] else 'member' }}
    - noelse: "{{ 'x' if false }}"
    - nested: {{ 'a' if 1 > 2 else 'b' }}
{% set mode = 'join' if grains['id'] != 'node1' else 'bootstrap' %}
    - mode: {{ mode }}

{% set l = [] %}
{% do l.append('a') %}
{% do l.append(grains['id']) %}
{% do l.extend(['x', 'y']) %}
{% set joined = l + ['z'] %}
{% set members = {} %}
{% for name in pillar['incus']['cluster_members'] %}
{% do members.update({name: loop.index}) %}
{% endfor %}
lists:
  test.nop:
    - l: {{ l }}
    - joined: {{ joined }}
    - count: {{ l | length }}
    - members: {{ members | json }}
    - index: {{ l.index('x') }}
    - in: {{ 'x' in l }}

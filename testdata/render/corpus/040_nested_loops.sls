{% for net in pillar['incus']['networks'] %}
network_{{ net['name'] }}:
  test.nop:
    - type: {{ net['type'] }}
{% if net.config is defined %}
{% for k, v in net['config'].items() %}
    - {{ k }}: {{ v }}
{% endfor %}
{% endif %}
    - index: {{ loop.index }}/{{ loop.length }}
{% endfor %}

{% load_yaml as extra %}
port: {{ 8443 + 1 }}
enabled: on
names: [a, b]
{% endload %}
loaded:
  test.nop:
    - port: {{ extra.port }}
    - enabled: {{ extra.enabled }}
    - names: {{ extra.names }}
    - inline: {{ ('{x: 1, y: [2]}' | load_yaml).y }}

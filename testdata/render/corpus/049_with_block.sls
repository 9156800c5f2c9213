{% with port = 8443, host = grains['host'] %}
with_block:
  test.nop:
    - addr: {{ host }}:{{ port }}
{% endwith %}

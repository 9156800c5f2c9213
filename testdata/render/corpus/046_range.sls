{% for i in range(3) %}
range_{{ i }}:
  test.nop:
    - double: {{ i * 2 }}
{% endfor %}
{% for i in range(1, 10, 4) %}
step_{{ i }}:
  test.nop
{% endfor %}

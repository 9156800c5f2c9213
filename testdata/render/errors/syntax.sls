a:
  test.nop:
{% if grains['id'] == 'node2' %}
    - x: 1
{% endfor %}

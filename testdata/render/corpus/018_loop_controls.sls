loops:
  test.nop:
{% for ip in [1, 2, 3, 4, 5, 6] %}
{% if ip == 2 %}{% continue %}{% endif %}
{% if ip == 5 %}{% break %}{% endif %}
    - item{{ loop.index }}: {{ ip }} {{ loop.first }} {{ loop.last }} {{ loop.index0 }} {{ loop.length }}
{% endfor %}
{% for x in [] %}
    - never: here
{% else %}
    - empty: loop
{% endfor %}

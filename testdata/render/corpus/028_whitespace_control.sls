ws:
  test.nop:
    - names:
{%- for n in ['a', 'b'] %}
      - {{ n }}
{%- endfor %}
    - after: x
    {%- if true %}
    - trimmed: yes
    {% endif %}
    - inline: {% if grains.id == 'node2' -%}  two  {%- else -%} other {%- endif %}

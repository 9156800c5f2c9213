

{# a comment #}
{% set x = 1 %}
blank:
  test.nop:
    - x: {{ x }}



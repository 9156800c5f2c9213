{% set local = 'seen' %}
{% include "lib/snippet.jinja" %}
after_include:
  test.nop:
    - local: {{ local }}

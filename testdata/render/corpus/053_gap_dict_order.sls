{# diff: data-only #}
{# Known gap: template dicts iterate and print in sorted key order, Python
   keeps insertion order. Printed and serialised dicts load to the same
   data; a loop over a literal dict emits its items in a different order. #}
{% set d = {'zeta': 1, 'alpha': 2} %}
order:
  test.nop:
    - printed: {{ d }}
    - tojson: {{ d | tojson }}

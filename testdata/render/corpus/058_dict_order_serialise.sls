{# Salt's tojson keeps dict order; its json filter and yaml (PyYAML's
   safe_dump) sort keys. #}
{% set d = {'zeta': 1, 'alpha': {'y': [{'q': 1, 'c': 2}], 'b': 'x'}} %}
serialise:
  test.nop:
    - tojson: {{ d | tojson }}
    - tojson_indent: {{ d | tojson(indent=1) | replace('\n', ' ') }}
    - json: {{ d | json }}
    - yaml: {{ d | yaml }}
    - yaml_block: {{ d | yaml(False) | replace('\n', '; ') | yaml_encode }}

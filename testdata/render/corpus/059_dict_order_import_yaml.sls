{# Data loaded from YAML and JSON keeps the document's key order, as
   Python's loaders give it. #}
{% import_yaml "lib/ordered.yaml" as y %}
{% import_json "lib/ordered.json" as j %}
{% load_yaml as inline %}
second: 2
first: 1
{% endload %}
{% set loaded = '{"b": 1, "a": {"d": 2, "c": 3}}' | load_json %}
loaded:
  test.nop:
    - yaml_keys: {{ y | list }}
    - yaml: "{{ y }}"
    - yaml_loop: "{% for k, v in y.alpha.items() %}{{ k }}:{{ v }} {% endfor %}"
    - merged: "{{ y.merged }}"
    - json: "{{ j }}"
    - inline: "{{ inline }}"
    - load_json: "{{ loaded }}"
    - tojson: {{ y.alpha | tojson }}

{# Loops over dicts follow insertion order. #}
{% set d = {'zeta': 1, 'alpha': 2, 'Mid': 3, 'beta': 4} %}
{% for k, v in {'b': 1, 'a': 2}.items() %}
literal-{{ k }}:
  test.nop:
    - value: {{ v }}
{% endfor %}
{% for k in d %}
direct-{{ k }}:
  test.nop:
    - index: {{ loop.index }}
    - first: {{ loop.first }}
{% endfor %}
{% for k, v in d.items() if v is even %}
filtered-{{ k }}:
  test.nop:
    - value: {{ v }}
{% endfor %}
{% for k in d.keys() %}{% if loop.last %}
lastkey:
  test.nop:
    - key: {{ k }}
    - values: "{% for v in d.values() %}{{ v }}{% endfor %}"
{% endif %}{% endfor %}
{% for k, v in d | dictsort %}
sorted-{{ loop.index }}-{{ k }}:
  test.nop: []
{% endfor %}
{% for k in {} %}
never: {}
{% else %}
empty:
  test.nop: []
{% endfor %}
{% for outer, inner in {'y': {'q': 1, 'c': 2}, 'x': {'n': 3, 'm': 4}}.items() %}
{% for k, v in inner.items() %}
nested-{{ outer }}-{{ k }}:
  test.nop:
    - value: {{ v }}
{% endfor %}
{% endfor %}

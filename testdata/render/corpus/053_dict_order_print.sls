{# Dicts print in insertion order, as Python's dicts do (Salt's finalizer
   prints them with str()). #}
{% set d = {'zeta': 1, 'alpha': 2, 'mid': {'y': 'v', 'b': [1, {'z': 0, 'a': 1}]}} %}
order:
  test.nop:
    - printed: "{{ d }}"
    - tojson: {{ d | tojson }}
    - nested: "{{ d['mid'] }}"
    - repr_in_list: "{{ [d['mid'], {'q': 1, 'c': 2}] }}"
    - dup_key: "{{ {'b': 1, 'a': 2, 'b': 3} }}"

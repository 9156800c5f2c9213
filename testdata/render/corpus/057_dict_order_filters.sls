{# Filters that iterate a dict see its keys in insertion order; dictsort
   and sort still sort. #}
{% set d = {'zeta': 1, 'alpha': 2, 'Mid': 3, 'beta': 0} %}
filters:
  test.nop:
    - list: {{ d | list }}
    - join: {{ d | join('-') }}
    - first: {{ d | first }}
    - last: {{ d | last }}
    - map: {{ d | map('upper') | list }}
    - reject: {{ d | reject('equalto', 'alpha') | list }}
    - select: {{ d | select('lower') | list }}
    - unique: {{ d | unique | list }}
    - sort: {{ d | sort | list }}
    - batch: {{ d | batch(3) | list }}
    - min: {{ d | min }}
    - length: {{ d | length }}
    - dictsort: "{{ d | dictsort }}"
    - dictsort_cs: "{{ d | dictsort(true) }}"
    - dictsort_rev: "{{ d | dictsort(reverse=true) }}"
    - dictsort_value: "{{ d | dictsort(false, 'value') }}"
    - items: "{{ d | items | list }}"
    - in: {{ 'Mid' in d }}
    - eq: {{ d == {'beta': 0, 'Mid': 3, 'alpha': 2, 'zeta': 1} }}
    - xmlattr: '{{ {'id': 'x', 'class': 'c', 'data': 'd'} | xmlattr }}'
    - reverse: {{ d | reverse | list }}
    - reverse2: {{ [1, 2] | reverse | list }}
    - reverse_str: {{ 'abc' | reverse }}
    - pprint: "{{ {'b': 1, 'a': {'z': [1, {'y': 0, 'c': 1}], 'd': None}} | pprint }}"

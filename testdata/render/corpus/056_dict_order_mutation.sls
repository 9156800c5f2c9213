{# update/setdefault/pop/copy keep Python's insertion order: an updated
   key keeps its place, a popped and re-added key goes last. #}
{% set d = {} %}
{% do d.update({'zeta': 1, 'alpha': 2}) %}
{% do d.update([('kilo', 3), ('bravo', 4)]) %}
{% do d.update(yankee=5) %}
{% set _ = d.setdefault('charlie', 6) %}
{% set _ = d.setdefault('zeta', 99) %}
{% do d.update({'alpha': 20}) %}
{% set c = d.copy() %}
{% set _ = d.pop('zeta') %}
{% do d.update({'zeta': 100}) %}
{% do c.update({'new': 0}) %}
mutation:
  test.nop:
    - d: "{{ d }}"
    - c: "{{ c }}"
    - keys: {{ d.keys() | list }}
    - items: "{{ d.items() | list }}"
{% set ns = namespace(m={'first': 1}) %}
{% do ns.m.update({'second': 2}) %}
{% set m2 = dict(ns.m) if false else ns.m %}
ns:
  test.nop:
    - m: "{{ m2 }}"
{# Pillar data has no order of its own here (sorted); keys added to a copy
   come after it. #}
{% set f = pillar['flags'].copy() %}
{% do f.update({'aaa': 1}) %}
{% set _ = f.setdefault('0first', 2) %}
pillar_copy:
  test.nop:
    - f: "{{ f }}"
{% set fromdict = dict({'zeta': 1, 'alpha': 2}) %}
{% set frompairs = dict([('zeta', 1), ('alpha', 2)], beta=3) %}
dict_builtin:
  test.nop:
    - fromdict: "{{ fromdict }}"
    - frompairs: "{{ frompairs }}"
    - kwargs: "{{ dict(alpha=1, beta=2) }}"

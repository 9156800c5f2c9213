{# pillar.get(merge=True) keeps the default's order and appends the pillar's
   new keys (salt.utils.dictupdate.update); pillar.item keeps argument
   order. The pillar itself is plain data (sorted, as the reference gives it). #}
{% set defaults = {'zeta': 0, 'bootstrap': 'none', 'alpha': 1} %}
{% set incus = salt['pillar.get']('incus', default=defaults, merge=True) %}
{% set missing = salt['pillar.get']('nothing:here', default={'z': 1, 'a': 2}, merge=True) %}
merge:
  test.nop:
    - keys: {{ incus | list }}
    - missing: "{{ missing }}"
    - item: {{ salt['pillar.item']('users', 'cluster_password', 'flags') | list }}
    - members: {{ pillar['incus']['cluster_members'] | list }}

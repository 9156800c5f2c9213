{% set defaults = {'server_settings': {'config': {'core.https_address': ':8443', 'x': 'default'}}, 'extra': 1} %}
{% set merged = salt['pillar.get']('incus', default=defaults, merge=True) %}
{% set lst = salt['pillar.get']('users', default=['zed'], merge=True) %}
merge:
  test.nop:
    - config: {{ merged.server_settings.config | json }}
    - extra: {{ merged.extra }}
    - bootstrap: {{ merged.bootstrap }}
    - users: {{ lst }}

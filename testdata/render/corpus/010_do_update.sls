{% set cfg = {} %}
{% do cfg.update({'core.https_address': '[::]:8443'}) %}
{% do cfg.update(pillar['incus']['server_settings']['config']) %}
{% do cfg.update({'cluster.https_address': grains['ipv4'][0] ~ ':8443'}) %}
{% set extra = cfg.setdefault('extra', 'x') %}
{% do cfg.pop('images.auto_update_interval') %}
settings:
  incus.settings:
    - config: {{ cfg | json }}
    - extra: {{ extra }}
    - keys: {{ cfg.keys() | list | length }}

{% set port = 8443 %}
{% set name = grains['id'] ~ '-' ~ port %}
{{ name }}:
  test.nop:
    - address: {{ grains['ipv4'][0] ~ ':' ~ port }}
    - mixed: {{ 'n' ~ 1 ~ True ~ None }}
    - plus: {{ 'a' + 'b' }}

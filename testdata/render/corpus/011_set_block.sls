{% set motd %}
Welcome to {{ grains['fqdn'] }}
{% endset %}
{% set simple = 'v' %}
motd:
  test.nop:
    - text: {{ motd | trim }}
    - simple: {{ simple }}

{% from "incus/map.jinja" import incus with context %}
include:
  - .settings

{% for member, cfg in incus.cluster_members|dictsort %}
incus-member-{{ member }}:
  demo.member:
    - name: {{ member }}
    - address: {{ cfg.address ~ ':' ~ incus.port }}
    - password: {{ cfg.cluster_password|yaml_encode }}
    - require:
      - sls: incus.settings
{% endfor %}

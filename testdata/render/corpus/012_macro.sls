{% macro member(name, address, port=8443, desc='') -%}
{{ name }}:
  incus.cluster_member_present:
    - address: {{ address }}:{{ port }}
{%- if desc %}
    - description: {{ desc }}
{%- endif %}
{%- endmacro %}
{{ member('node2', '10.0.0.12') }}
{{ member('node3', '10.0.0.13', port=9443, desc='third') }}
{{ member(name='node4', address='10.0.0.14', desc='kw') }}

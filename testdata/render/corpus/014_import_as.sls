{% import "lib/macros.jinja" as m %}
{{ m.member('node2', grains['ipv4'][0]) }}
labels:
  test.nop:
    - label: {{ m.label('x') }}
    - sep: {{ m.label('y', sep='_') }}
    - version: {{ m.version }}

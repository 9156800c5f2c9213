{% from "incus/map.jinja" import incus, addr with context %}
a:
  test.nop:
    - addr: {{ addr }}

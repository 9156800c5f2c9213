{% import_yaml "lib/defaults.yaml" as defaults %}
defaults:
  test.nop:
    - port: {{ defaults.incus.port }}
    - enabled: {{ defaults.incus.enabled }}
    - host: {{ defaults.incus.host }}
    - mode: {{ defaults.incus.mode }}
    - members: {{ defaults.incus.members | join(',') }}
    - all: {{ defaults | json }}

{% import_json "lib/defaults.json" as d %}
json_defaults:
  test.nop:
    - timeout: {{ d.timeout }}
    - ratio: {{ d.ratio }}
    - name: {{ d.name }}
    - tags: {{ d['tags'] }}

strings:
  test.nop:
    - upper: {{ grains['id'].upper() }}
    - split: {{ grains['fqdn'].split('.') }}
    - split0: {{ grains['fqdn'].split('.')[0] }}
    - starts: {{ grains['id'].startswith('node') }}
    - ends: {{ grains['fqdn'].endswith('.example') }}
    - replace: {{ grains['id'].replace('node', 'n') }}
    - strip: {{ '  x  '.strip() }}
    - format: {{ '%s-%s' | format(grains['id'], 8443) }}
    - join: {{ '-'.join(['a', 'b']) }}
    - lower: {{ 'ABC'.lower() }}

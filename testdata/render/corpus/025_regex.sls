regex:
  test.nop:
    - match: {{ grains['fqdn'] | regex_match('^(node\d+)\.(.*)$') }}
    - nomatch: {{ grains['fqdn'] | regex_match('lab') }}
    - search: {{ grains['fqdn'] | regex_search('(lab)\.(\w+)') }}
    - icase: {{ 'ABCD' | regex_search('^(.*)BC(.*)$', ignorecase=True) }}
    - replace: {{ 'lets replace spaces' | regex_replace('\s+', '__') }}
    - backref: {{ grains['fqdn'] | regex_replace('^(\w+)\..*$', 'host-\\1') }}
    - first: {{ (grains['ipv4'][0] | regex_match('(\d+)\.(\d+)\.(\d+)\.(\d+)'))[3] }}

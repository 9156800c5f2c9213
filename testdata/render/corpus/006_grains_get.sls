grains_get:
  test.nop:
    - os: {{ grains.get('os') }}
    - nope: {{ grains.get('nope', 'dflt') }}
    - first_ip: {{ salt['grains.get']('ipv4:0') }}
    - missing: "{{ salt['grains.get']('no:such:grain') }}"
    - mem: {{ grains.get('mem_total', 0) // 1024 }}

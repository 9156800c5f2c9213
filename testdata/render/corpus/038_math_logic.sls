math:
  test.nop:
    - add: {{ 1 + 2 }}
    - floordiv: {{ 10 // 3 }}
    - mod: {{ 7 % 3 }}
    - pow: {{ 2 ** 8 }}
    - div: {{ 1 / 2 }}
    - div2: {{ 10 / 5 }}
    - mul: {{ 3 * 1.5 }}
    - neg: {{ -grains['num_cpus'] }}
    - cmp: {{ grains['num_cpus'] > 2 and grains['mem_total'] >= 4096 }}
    - or: {{ '' or 'fallback' }}
    - and: {{ 'a' and 'b' }}
    - not: {{ not pillar['incus']['enabled'] }}
    - paren: {{ (1 + 2) * 3 }}
    - strmul: {{ 'ab' * 3 }}
    - weight: {{ pillar['incus']['weight'] * 2 }}

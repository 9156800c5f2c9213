settings:
  list: [9]
  nested: {y: 2, z: 2}
  replaced_by_scalar: plain
# later files see the pillar merged so far, override included
seen_a: "{{ pillar['settings']['scalar'] }}"
{% if 'env' in pillar %}
env_seen: "{{ pillar['env'] }}"
{% endif %}

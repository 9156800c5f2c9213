{#-
  Storage pools from incus:storage_pools (the guide's "Cluster Storage
  Configuration": NAME: {driver, config, description}; all pillar shapes,
  see map.jinja). Each target converges every pool for its own member:
  member-specific keys in config (source, size, zfs.pool_name ...) are the
  target's own, so a grain-dependent source differs per member; an
  optional members: {MEMBER: {KEY: VALUE}} gives them for the whole
  cluster at once. On a cluster the pool is created once every member has
  its pending entry: the last member applied finishes it. Runs after the
  target's own cluster state. Not rendered for a member marked absent.
-#}
{%- from "incus/map.jinja" import incus with context %}
{%- set id = grains['id'] %}
{%- set member = incus.cluster_members.get(id) or {} %}
{%- if not member.get('absent') %}
{%-   for name in incus.storage_pools|sort %}
{%-     set pool = incus.storage_pools[name] or {} %}
incus-storage-pool-{{ name }}:
  incus.storage_pool_present:
    - name: {{ name|tojson }}
    - driver: {{ (pool.get('driver') or '')|tojson }}
{%-     for arg in ['config', 'description', 'members'] %}
{%-       if arg in pool %}
    - {{ arg }}: {{ pool[arg]|tojson }}
{%-       endif %}
{%-     endfor %}
{%-     if id in incus.cluster_members or incus.bootstrap == id %}
    - require:
      - incus: {{ 'incus-cluster-member-' ~ id if id in incus.cluster_members else 'incus-cluster-bootstrap' }}
{%-     endif %}
{%-   endfor %}
{%- endif %}

{#-
  Networks from incus:networks (the guide's "Cluster Networks": NAME:
  {network_type, config, description}; all pillar shapes, see map.jinja).
  Each target converges every network for its own member: member-specific
  keys in config (parent, bridge.external_interfaces ...) are the target's
  own; an optional members: {MEMBER: {KEY: VALUE}} gives them for the whole
  cluster at once. On a cluster the network is created once every member
  has its pending entry (ovn: one cluster-wide create). Runs after the
  target's own cluster state. Not rendered for a member marked absent.
-#}
{%- from "incus/map.jinja" import incus with context %}
{%- set id = grains['id'] %}
{%- set member = incus.cluster_members.get(id) or {} %}
{%- if not member.get('absent') %}
{%-   for name in incus.networks|sort %}
{%-     set net = incus.networks[name] or {} %}
incus-network-{{ name }}:
  incus.network_present:
    - name: {{ name|tojson }}
{%-     if net.get('network_type') %}
    - type: {{ net.network_type|tojson }}
{%-     endif %}
{%-     for arg in ['config', 'description', 'members'] %}
{%-       if arg in net %}
    - {{ arg }}: {{ net[arg]|tojson }}
{%-       endif %}
{%-     endfor %}
{%-     if id in incus.cluster_members or incus.bootstrap == id %}
    - require:
      - incus: {{ 'incus-cluster-member-' ~ id if id in incus.cluster_members else 'incus-cluster-bootstrap' }}
{%-     endif %}
{%-   endfor %}
{%- endif %}

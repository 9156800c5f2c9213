{#-
  Server settings from incus:server_settings:config (all pillar shapes, see
  map.jinja), for the target's own member: cluster-wide keys are set once
  (whichever target runs first), member-local keys on the target.
  core.trust_password from older pillars is accepted and skipped with a
  comment: Incus has no trust password. Not rendered for a member marked
  absent in cluster_members.
-#}
{%- from "incus/map.jinja" import incus with context %}
{%- set member = incus.cluster_members.get(grains['id']) or {} %}
{#- A member being removed is left alone: it is about to be standalone. #}
{%- if incus.server_settings.config and not member.get('absent') %}
incus-server-settings:
  incus.settings_present:
    - config: {{ incus.server_settings.config|tojson }}
{%- endif %}

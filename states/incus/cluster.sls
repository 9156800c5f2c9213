{#-
  Cluster membership from incus:cluster_members (all pillar shapes, see
  map.jinja for how the bootstrap member is chosen).

  A target renders:
    - incus-cluster-bootstrap (cluster_enabled) when it is the bootstrap
      member;
    - incus-cluster-member-ID (cluster_member_present) for itself when it is
      in cluster_members: it joins through the bootstrap member, then the
      other members (roster names, first reachable clustered one wins), and
      converges description, failure domain, groups, roles and config.
  Other members are left to their own runs, so `statectl apply node2
  incus.cluster` touches node2's membership only.
-#}
{%- from "incus/map.jinja" import incus with context %}
{%- set id = grains['id'] %}
{%- set members = incus.cluster_members %}
{%- if incus.bootstrap and incus.bootstrap == id %}
incus-cluster-bootstrap:
  incus.cluster_enabled:
    - name: {{ id|tojson }}
{%-   if incus.bootstrap_address %}
    - address: {{ incus.bootstrap_address|tojson }}
{%-   endif %}
{%- endif %}
{%- if id in members %}
{%-   set spec = members[id] %}
{%-   set via = [] %}
{%-   if incus.bootstrap and incus.bootstrap != id %}
{%-     do via.append(incus.bootstrap) %}
{%-   endif %}
{%-   for name in members|sort %}
{%-     if name != id and name not in via %}
{%-       do via.append(name) %}
{%-     endif %}
{%-   endfor %}
incus-cluster-member-{{ id }}:
  incus.cluster_member_present:
    - name: {{ id|tojson }}
    - address: {{ spec.get('address', '')|tojson }}
{%-   if via and incus.bootstrap != id %}
    - cluster: {{ via|tojson }}
{%-   endif %}
{%-   for arg in ['cluster_token', 'cluster_password', 'description', 'failure_domain', 'groups', 'roles', 'config', 'member_config'] %}
{%-     if arg in spec %}
    - {{ arg }}: {{ spec[arg]|tojson }}
{%-     endif %}
{%-   endfor %}
{%-   if incus.bootstrap == id %}
    - require:
      - incus: incus-cluster-bootstrap
{%-   endif %}
{%- endif %}

{#-
  Cluster membership from incus:cluster_members (all pillar shapes, see
  map.jinja for how the bootstrap member is chosen).

  A target renders:
    - incus-cluster-bootstrap (cluster_enabled) when it is the bootstrap
      member;
    - incus-cluster-member-ID (cluster_member_present) for itself when it is
      in cluster_members: it joins through the bootstrap member (by name,
      or by incus_bootstrap's cluster.https_address when the pillar gives
      no name), then the
      other members (roster names, first reachable clustered one wins), and
      converges description, failure domain, groups, roles and config;
    - incus-cluster-member-ID (cluster_member_absent) instead when its entry
      says `absent: true` (`force: true` passes --force): it is removed
      through the other members, so this works when its own daemon is gone.
    - incus-cluster-maintenance-ID when its entry has `maintenance`: true
      keeps it evacuated (cluster_member_evacuated), false restored
      (cluster_member_restored); without the key evacuation is not
      managed, so a watch loop never undoes a hand-run evacuation (the
      rolling procedure is incus/maintenance.sls).
  Other members are left to their own runs, so `statectl apply node2
  incus.cluster` touches node2's membership only. Members marked absent are
  never joined through.
-#}
{%- from "incus/map.jinja" import incus with context %}
{%- set id = grains['id'] %}
{%- set members = incus.cluster_members %}
{%- set spec = members.get(id) or {} %}
{%- set absent = spec.get('absent') %}
{%- if incus.bootstrap and incus.bootstrap == id and not absent %}
{#- The other members: checked for an existing cluster first, so that a
    bootstrap member that was removed joins instead of starting a second
    cluster (see cluster_enabled). #}
{%-   set others = [] %}
{%-   for name in members|sort %}
{%-     if name != id and not (members[name] or {}).get('absent') %}
{%-       do others.append(name) %}
{%-     endif %}
{%-   endfor %}
incus-cluster-bootstrap:
  incus.cluster_enabled:
    - name: {{ id|tojson }}
{%-   if incus.bootstrap_address %}
    - address: {{ incus.bootstrap_address|tojson }}
{%-   endif %}
{%-   if others %}
    - cluster: {{ others|tojson }}
{%-   endif %}
{%- endif %}
{%- if id in members %}
{%-   set via = [] %}
{%-   if incus.bootstrap and incus.bootstrap != id and not (members.get(incus.bootstrap) or {}).get('absent') %}
{%-     do via.append(incus.bootstrap) %}
{%-   elif not incus.bootstrap and incus.bootstrap_https %}
{#-     The guide names the bootstrap node only by its address: the
        module joins through the roster entry at that address. #}
{%-     do via.append(incus.bootstrap_https) %}
{%-   endif %}
{%-   for name in members|sort %}
{%-     if name != id and name not in via and not (members[name] or {}).get('absent') %}
{%-       do via.append(name) %}
{%-     endif %}
{%-   endfor %}
{#-   Nothing to join through, no token, and the daemon says it is not
      clustered: the join cannot work, say which pillar key is missing. #}
{%-   if not absent and not via and incus.bootstrap != id and not spec.get('cluster_token') and (grains.get('incus') or {}).get('clustered') == false %}
{{ raise("cluster member " ~ id ~ " has no member to join through: its pillar names no bootstrap member and no other cluster member; set incus:cluster:bootstrap to the bootstrap member's roster name (or give incus_bootstrap:server_settings:config:cluster.https_address, or a cluster_token)") }}
{%-   endif %}
{%-   if absent %}
incus-cluster-member-{{ id }}:
  incus.cluster_member_absent:
    - name: {{ id|tojson }}
{%-     if via %}
    - cluster: {{ via|tojson }}
{%-     endif %}
{%-     if spec.get('force') %}
    - force: true
{%-     endif %}
{%-   else %}
incus-cluster-member-{{ id }}:
  incus.cluster_member_present:
    - name: {{ id|tojson }}
    - address: {{ spec.get('address', '')|tojson }}
{%-   if via %}
    - cluster: {{ via|tojson }}
{%-   endif %}
{%-   for arg in ['cluster_token', 'cluster_password', 'description', 'failure_domain', 'groups', 'roles', 'config'] %}
{%-     if arg in spec %}
    - {{ arg }}: {{ spec[arg]|tojson }}
{%-     endif %}
{%-   endfor %}
{#-   Join answers: the target's own pool and network values (map.jinja),
      then the member's explicit member_config, which wins. #}
{%-   set answers = incus.join_answers + (spec.get('member_config') or []) %}
{%-   if answers %}
    - member_config: {{ answers|tojson }}
{%-   endif %}
{%-   if incus.bootstrap == id %}
    - require:
      - incus: incus-cluster-bootstrap
{%-   endif %}
{%-   if spec.get('maintenance') is not none %}
{%-     set maint = incus.maintenance %}
incus-cluster-maintenance-{{ id }}:
{%-     if spec.maintenance %}
  incus.cluster_member_evacuated:
    - name: {{ id|tojson }}
{%-       if maint.get('mode') %}
    - mode: {{ maint.mode|tojson }}
{%-       endif %}
{%-     else %}
  incus.cluster_member_restored:
    - name: {{ id|tojson }}
{%-     endif %}
{%-     if maint.get('wait') %}
    - wait: {{ maint.wait|tojson }}
{%-     endif %}
    - require:
      - incus: incus-cluster-member-{{ id }}
{%-   endif %}
{%-   endif %}
{%- endif %}

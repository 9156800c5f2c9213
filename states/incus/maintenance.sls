{#-
  incus.maintenance: one member's maintenance, for a rolling run
  (`statectl apply '*' incus.maintenance --batch 1`): evacuate the target
  -> run incus:maintenance:command, if any, on the machine statectl runs
  on (e.g. `ssh {{ grains['id'] }} apt-get install -y incus`, or
  `statectl lab restart {{ grains['id'] }} --dir DIR` on a lab) -> wait,
  bounded, until the member is back online -> restore it. A member the
  pillar holds in maintenance (incus:cluster_members:NAME:maintenance:
  true) is not restored. The cluster is read through the other members
  first: the target itself is down while its command runs.

  Pillar (all optional), under incus:maintenance: command, mode (the
  evacuation mode, default auto), wait (seconds for the evacuation and the
  restore, default 600), online_wait (seconds for the member to come back,
  default 300).

  Not included by incus/init.sls: a maintenance is run on purpose.
-#}
{%- from "incus/map.jinja" import incus with context %}
{%- set id = grains['id'] %}
{%- set m = incus.maintenance %}
{%- set spec = incus.cluster_members.get(id) or {} %}
{%- set others = [] %}
{%- if incus.bootstrap and incus.bootstrap != id %}
{%-   do others.append(incus.bootstrap) %}
{%- endif %}
{%- for name in incus.cluster_members|sort %}
{%-   if name != id and name not in others and not (incus.cluster_members[name] or {}).get('absent') %}
{%-     do others.append(name) %}
{%-   endif %}
{%- endfor %}
incus-maintenance-evacuate-{{ id }}:
  incus.cluster_member_evacuated:
    - name: {{ id|tojson }}
{%- if m.get('mode') %}
    - mode: {{ m.mode|tojson }}
{%- endif %}
{%- if m.get('wait') %}
    - wait: {{ m.wait|tojson }}
{%- endif %}
{%- set last = 'incus: incus-maintenance-evacuate-' ~ id %}
{%- if m.get('command') %}
incus-maintenance-command-{{ id }}:
  cmd.run:
    - name: {{ m.command|tojson }}
    - require:
      - {{ last }}
{%-   set last = 'cmd: incus-maintenance-command-' ~ id %}
{%- endif %}
incus-maintenance-online-{{ id }}:
  incus.cluster_member_online:
    - name: {{ id|tojson }}
{%- if others %}
    - cluster: {{ others|tojson }}
{%- endif %}
{%- if m.get('online_wait') %}
    - wait: {{ m.online_wait|tojson }}
{%- endif %}
    - require:
      - {{ last }}
{%- if not spec.get('maintenance') %}
incus-maintenance-restore-{{ id }}:
  incus.cluster_member_restored:
    - name: {{ id|tojson }}
{%-   if others %}
    - cluster: {{ others|tojson }}
{%-   endif %}
{%-   if m.get('wait') %}
    - wait: {{ m.wait|tojson }}
{%-   endif %}
    - require:
      - incus: incus-maintenance-online-{{ id }}
{%- endif %}

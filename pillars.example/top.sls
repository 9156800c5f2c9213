# Example pillar top file. Each scenario of the Incus cluster guide is one
# file; a target picks its scenario with the custom grain incus_scenario
# (set it in the roster: grains: {incus_scenario: basic}).
base:
  '*':
    - secrets
  'G@incus_scenario:steps':
    - steps
  'G@incus_scenario:basic':
    - basic
  'G@incus_scenario:large':
    - large
  'G@incus_scenario:hybrid':
    - hybrid
  'G@incus_scenario:grains':
    - grains
  'G@incus_scenario:shared':
    - basic
    - shared
  'G@incus_scenario:maintenance':
    - maintenance

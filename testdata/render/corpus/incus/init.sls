init_paths:
  test.nop:
    - sls: {{ sls }}
    - tpldir: {{ tpldir }}
    - slspath: {{ slspath }}
    - rel: {% from "./cluster_vars.jinja" import value %}{{ value }}

paths:
  test.nop:
    - sls: {{ sls }}
    - tpldir: {{ tpldir }}
    - slspath: {{ slspath }}
    - slsdotpath: {{ slsdotpath }}
    - saltenv: {{ saltenv }}

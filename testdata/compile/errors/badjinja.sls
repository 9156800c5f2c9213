x:
  test.nop:
    - name: {{ nope.missing }}

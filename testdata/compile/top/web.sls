web-state: test.nop

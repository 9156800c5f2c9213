devonly-state: test.nop

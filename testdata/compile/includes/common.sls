common-1: test.nop

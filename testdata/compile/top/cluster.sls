cluster-state: test.nop

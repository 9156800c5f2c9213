dropped-state: test.nop

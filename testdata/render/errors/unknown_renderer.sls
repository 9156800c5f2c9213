#!mako|yaml
a: b

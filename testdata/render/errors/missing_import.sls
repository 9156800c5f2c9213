{% import_yaml "incus/nope.yaml" as nope %}
a: b

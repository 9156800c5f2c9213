include:
  - common
  - users.*
  - cluster:
      key: incus:cluster
  - app
app:
  name: demo
  host: "{{ grains['id'] }}"
common:
  owner: app

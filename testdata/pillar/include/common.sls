include:
  - app
common:
  owner: common
  region: eu

users:
  bob: {uid: 1001}

shared: true

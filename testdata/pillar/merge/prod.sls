prod_only: 1

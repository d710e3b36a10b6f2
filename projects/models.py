"""Key project list, GEP balance ledger, red lines, performance evaluation. Models arrive with the features that need them."""

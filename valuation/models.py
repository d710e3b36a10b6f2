"""GEP indicators, sourced parameter sets, accounting runs and results. Models arrive with the features that need them."""

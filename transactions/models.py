"""Collection contracts, resource packages, listings, auctions, settlements. Models arrive with the features that need them."""

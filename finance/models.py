"""Loan products, eco-credit, collateral, pledges, schedules, risk sharing, bank API. Models arrive with the features that need them."""

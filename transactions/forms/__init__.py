"""Forms of the trading desk, one module per area."""

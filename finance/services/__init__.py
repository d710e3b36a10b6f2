"""Every write of the finance app, one module per area (see DESIGN.md §4)."""

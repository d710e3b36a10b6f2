"""Writes of the projects app, one module per area (see each module's docstring)."""

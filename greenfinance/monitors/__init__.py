"""Green-finance monitoring jobs (run by projects.services.monitoring; see projects.monitors)."""

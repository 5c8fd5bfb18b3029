"""Service mode: the scheduler shell around the sync, its run lock, health/metrics server and startup checks."""

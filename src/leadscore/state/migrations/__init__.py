"""Alembic migrations of the state store, shipped inside the package."""

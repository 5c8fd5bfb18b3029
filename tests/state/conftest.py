"""Fixtures for the state-store tests: one store per backend (SQLite file, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadscore.state import StateStore, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture()
def store(store_url: str) -> Iterator[StateStore]:
    """An opened, migrated store."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()

"""Alembic environment: runs the packaged migrations on the connection `open_store` passes in."""

from __future__ import annotations

from alembic import context

from leadscore.state.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Online migrations only: the store always hands over a live connection."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

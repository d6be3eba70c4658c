"""Alembic environment: migrate the connection handed over, or the configured DB."""

from __future__ import annotations

from alembic import context

from hub.models import Base


def run() -> None:
    conn = context.config.attributes.get("connection")
    if conn is None:
        from hub.config import HubConfig
        from hub.db import make_engine

        engine = make_engine(HubConfig.from_env().database_url)
        with engine.begin() as conn:
            _migrate(conn)
        return

    _migrate(conn)


def _migrate(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()

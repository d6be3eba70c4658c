"""Bring the SQLite schema up to date with Alembic migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; tests/edge/test_schema.py fails when
# a migration is added without moving this, so a start never skips an upgrade.
HEAD = "0003"

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def stored_revision(engine: Engine) -> str | None:
    """The revision the database says it is at; None for a new or unstamped file."""
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar()
    except OperationalError:
        return None


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied; safe to call on each start.

    Alembic and its migration scripts cost ~11 MB resident and a few hundred
    milliseconds, so a start whose database is already at HEAD does not load them.
    """
    stored = stored_revision(engine)
    if stored == HEAD:
        return

    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    log.info("schema.upgraded", extra={"from": stored, "to": HEAD})

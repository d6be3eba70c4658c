"""Throw-away databases for a benchmark: a SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_SH = Path(__file__).parents[1] / "provisioning" / "local" / "postgres.sh"


def postgres_url() -> str:
    """Start the repository's local PostgreSQL cluster if needed; answer its URL."""
    for command in ("start", "url"):
        done = subprocess.run(
            ["bash", str(POSTGRES_SH), command],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"postgres.sh {command} failed: {done.stderr.strip()}")

    return done.stdout.strip()


@contextmanager
def fresh(kind: str, workdir: Path, server_url: str | None = None) -> Iterator[str]:
    """URL of an empty database of `kind` ("sqlite" or "postgresql"), dropped after."""
    name = f"bench_{secrets.token_hex(4)}"
    if kind == "sqlite":
        path = workdir / f"{name}.sqlite"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in workdir.glob(f"{name}.sqlite*"):
                leftover.unlink()
        return

    base = make_url(server_url or postgres_url())
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

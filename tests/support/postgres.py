"""Drive provisioning/local/postgres.sh and hand out one fresh database per test."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from tests.support.servers import REPO_ROOT, ServerUnavailable

SCRIPT = REPO_ROOT / "provisioning" / "local" / "postgres.sh"


def _run(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def is_running() -> bool:
    """Tell whether the repo's local cluster is up."""
    return _run("status").returncode == 0


def start() -> str:
    """Start the local cluster (if needed) and return the app database URL."""
    started = _run("start")
    if started.returncode != 0:
        raise ServerUnavailable(f"postgres.sh start failed:\n{started.stderr.strip()}")

    url = _run("url")
    if url.returncode != 0:
        raise ServerUnavailable(f"postgres.sh url failed:\n{url.stderr.strip()}")

    return url.stdout.strip()


def stop() -> None:
    """Stop the local cluster, keeping its data for a fast next start."""
    _run("stop")


@contextmanager
def fresh_database(base_url: str) -> Iterator[URL]:
    """Create an empty database for one test and drop it afterwards."""
    base = make_url(base_url)
    name = f"test_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name)
    finally:
        # FORCE ends sessions a test left open (a leaked engine, a killed server).
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

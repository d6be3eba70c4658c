"""Fixtures of the end-to-end tests: real hub and edge processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Edge, Hub, Processes
from tests.support import postgres


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Servers started by one test, stopped after it."""
    started = Processes()
    yield started
    started.stop_all()


@pytest.fixture
def pg_hub(pg_url_fresh: str, tmp_path: Path) -> Hub:
    """A set-up hub (not yet serving) on a fresh PostgreSQL database, local blobs."""
    hub = Hub(tmp_path / "hub", pg_url_fresh)
    hub.home.mkdir()
    hub.setup()
    return hub


@pytest.fixture
def tablet_of(tmp_path: Path):
    """Make an initialised edge home in this test's directory."""

    def make(label: str, **env: str) -> Edge:
        return Edge(tmp_path / label.replace(" ", "-"), label, extra_env=env).init()

    return make


@pytest.fixture(scope="module")
def module_db(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database shared by the tests of one module."""
    with postgres.fresh_database(postgres_url) as url:
        yield url.render_as_string(hide_password=False)

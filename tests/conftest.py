"""Session fixtures that start real servers: PostgreSQL, S3, headless Chromium.

Under CI=true a server that cannot start fails the test with the reason and the log
tail; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from selenium.webdriver import Chrome

from tests.support import browser, postgres, s3
from tests.support.servers import ServerProcess, ServerUnavailable, unavailable


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory for the logs of server processes this run starts (kept by pytest)."""
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture
def run_server() -> Iterator[Callable[..., ServerProcess]]:
    """Start product servers (hub, edges) as real processes, stopped after the test.

    A product server that does not come up fails the test with its log tail, in and
    out of CI: unlike a missing PostgreSQL, that is a bug in the product.
    """
    started: list[ServerProcess] = []

    def run(server: ServerProcess, timeout: float = 30.0) -> ServerProcess:
        started.append(server)
        try:
            return server.start(timeout)
        except ServerUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)

    yield run
    for server in reversed(started):
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of the app database on the repo's local cluster."""
    was_running = postgres.is_running()
    try:
        url = postgres.start()
    except (ServerUnavailable, OSError) as exc:
        unavailable(f"PostgreSQL unavailable: {exc}")

    yield url

    if not was_running:
        postgres.stop()


@pytest.fixture
def pg_url_fresh(postgres_url: str) -> Iterator[str]:
    """URL of a database created empty for this test and dropped after it."""
    with postgres.fresh_database(postgres_url) as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def pg_engine(pg_url_fresh: str) -> Iterator[sa.Engine]:
    """An engine bound to this test's own fresh database."""
    engine = sa.create_engine(pg_url_fresh)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3.S3Server]:
    """The local S3-compatible server: endpoint, keys and region."""
    was_running = s3.is_running()
    try:
        server = s3.start()
    except (ServerUnavailable, OSError) as exc:
        unavailable(f"S3 server unavailable: {exc}")

    yield server

    if not was_running:
        s3.stop()


@pytest.fixture
def s3_bucket(s3_server: s3.S3Server) -> Iterator[str]:
    """Name of a bucket created empty for this test and deleted after it."""
    with s3.fresh_bucket(s3_server) as name:
        yield name


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium binary."""
    try:
        path, _driver = browser.find_chromium()
    except ServerUnavailable as exc:
        unavailable(str(exc))

    return path


@pytest.fixture
def browser_page(chromium: str, tmp_path: Path) -> Iterator[Chrome]:
    """A fresh headless Chromium (Selenium WebDriver) for this test only."""
    try:
        page = browser.start_browser(tmp_path / "chromedriver.log")
    except ServerUnavailable as exc:
        unavailable(str(exc))

    yield page
    page.quit()

import os
import re
import stat
from datetime import UTC, datetime, timedelta

import pytest

from edge import cli
from edge.app import create_app
from edge.login import MAX_FAILURES, WINDOW, login_limit, set_password

LAN = "192.168.1.10"
PASSWORD = "cacao-beans-42"


@pytest.fixture
def lan_client(ctx):
    config = ctx.config.but(host=LAN)
    set_password(config, PASSWORD)
    app = create_app(config)
    yield app.test_client()
    app.extensions["cocoa_edge"].engine.dispose()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = datetime(2026, 12, 12, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(lan_client):
    clock = Clock()
    login_limit(lan_client.application).clock = clock
    return clock


def _login(client, password, address="192.168.1.20"):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(
        "/login?next=/records",
        data={"csrf_token": token, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail_until_locked(client, address="192.168.1.20"):
    for _ in range(MAX_FAILURES):
        assert _login(client, "guess", address).status_code == 401


def test_serving_a_lan_address_without_a_password_is_refused(ctx, capsys, monkeypatch):
    monkeypatch.setenv("COCOA_EDGE_HOME", str(ctx.config.home))

    status = cli.main(["serve", "--host", "0.0.0.0", "--no-scheduler"])

    err = capsys.readouterr().err
    assert status == 1
    assert "password-required" in err
    assert "cocoa-edge set-password" in err


def test_set_password_keeps_an_owner_only_hash(ctx, monkeypatch, tmp_path):
    monkeypatch.setenv("COCOA_EDGE_HOME", str(ctx.config.home))
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")

    status = cli.main(["set-password", "--password-file", str(secret)])

    stored = ctx.config.password_path
    assert status == 0
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert PASSWORD not in stored.read_text()


def test_pages_on_a_lan_address_ask_for_a_login(lan_client):
    response = lan_client.get("/farmers/new")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_wrong_password_is_refused(lan_client):
    response = _login(lan_client, "guess")

    assert response.status_code == 401
    assert lan_client.get("/records").status_code == 302


def test_the_right_password_opens_the_pages(lan_client):
    response = _login(lan_client, PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/records")
    assert lan_client.get("/records").status_code == 200


def test_the_login_form_needs_its_csrf_token(lan_client):
    lan_client.get("/login")

    response = lan_client.post("/login", data={"password": PASSWORD})

    assert response.status_code == 400
    assert lan_client.get("/records").status_code == 302


def test_the_sync_api_is_not_behind_the_login(lan_client):
    response = lan_client.get("/api/v1/sync/reference")

    assert response.status_code != 302


def test_loopback_pages_need_no_login(ctx):
    app = create_app(ctx.config)

    response = app.test_client().get("/farmers/new")

    app.extensions["cocoa_edge"].engine.dispose()
    assert response.status_code == 200


def test_every_response_carries_the_security_headers(lan_client):
    response = lan_client.get("/login")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_after_five_wrong_passwords_even_the_right_one_is_refused(lan_client, clock):
    _fail_until_locked(lan_client)

    response = _login(lan_client, PASSWORD)

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= WINDOW.total_seconds()
    assert "login-throttled" in response.get_data(as_text=True)
    assert lan_client.get("/records").status_code == 302


def test_a_lock_on_one_address_leaves_another_address_free(lan_client, clock):
    _fail_until_locked(lan_client, "192.168.1.66")

    response = _login(lan_client, PASSWORD, "192.168.1.20")

    assert response.status_code == 302


def test_a_right_password_clears_the_count(lan_client, clock):
    for _ in range(MAX_FAILURES - 1):
        _login(lan_client, "guess")
    _login(lan_client, PASSWORD)

    answers = [_login(lan_client, "guess").status_code for _ in range(MAX_FAILURES)]

    assert answers == [401] * MAX_FAILURES


def test_the_lock_ends_when_the_window_passes(lan_client, clock):
    _fail_until_locked(lan_client)
    clock.now += WINDOW - timedelta(seconds=1)
    still_locked = _login(lan_client, PASSWORD).status_code

    clock.now += timedelta(seconds=1)
    response = _login(lan_client, PASSWORD)

    assert still_locked == 429
    assert response.status_code == 302

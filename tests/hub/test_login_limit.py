"""Console login throttling: per username and address, in the hub database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from hub.auth import login_limit
from hub.errors import LoginThrottled
from hub.login_limit import MAX_FAILURES, WINDOW, LoginLimit
from tests.hub import test_http as http
from tests.hub.test_http import PASSWORD

app = http.app
client = http.client
HOME = "10.0.0.7"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = datetime(2026, 12, 12, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app):
    clock = Clock()
    with app.app_context():
        login_limit().clock = clock
    return clock


def post_login(client, username, password, address=HOME, accept="text/html"):
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf},
        headers={"Accept": accept},
        environ_base={"REMOTE_ADDR": address},
    )


def fail_until_locked(client, username="admin", address=HOME):
    for _ in range(MAX_FAILURES):
        assert post_login(client, username, "wrong guess", address).status_code == 401


def test_the_sixth_try_is_refused_even_with_the_right_password(client, clock):
    fail_until_locked(client)

    answer = post_login(client, "admin", PASSWORD)

    assert answer.status_code == 429
    assert 0 < int(answer.headers["Retry-After"]) <= WINDOW.total_seconds()
    assert "login-throttled" in answer.text
    assert client.get("/").status_code == 302


def test_json_callers_get_the_problem_with_retry_after(client, clock):
    fail_until_locked(client)

    answer = post_login(client, "admin", PASSWORD, accept="application/json")

    assert answer.status_code == 429
    assert answer.json["code"] == "login-throttled"
    assert answer.json["retry_after"] == int(answer.headers["Retry-After"])


def test_another_username_from_the_same_address_is_not_locked(client, clock):
    fail_until_locked(client, "admin")

    answer = post_login(client, "maker", PASSWORD)

    assert answer.status_code == 302


def test_the_same_username_from_another_address_is_not_locked(client, clock):
    fail_until_locked(client, "admin", "10.0.0.66")

    answer = post_login(client, "admin", PASSWORD, HOME)

    assert answer.status_code == 302


def test_a_successful_login_clears_the_count(client, clock):
    for _ in range(MAX_FAILURES - 1):
        post_login(client, "admin", "wrong guess")
    post_login(client, "admin", PASSWORD)

    answers = [
        post_login(client, "admin", "wrong guess").status_code
        for _ in range(MAX_FAILURES)
    ]

    assert answers == [401] * MAX_FAILURES


def test_the_lock_ends_when_the_window_passes(client, clock):
    fail_until_locked(client)
    clock.now += WINDOW - timedelta(seconds=1)
    still_locked = post_login(client, "admin", PASSWORD).status_code

    clock.now += timedelta(seconds=1)
    answer = post_login(client, "admin", PASSWORD)

    assert still_locked == 429
    assert answer.status_code == 302


def test_the_lock_is_logged_without_the_password(client, clock, caplog):
    fail_until_locked(client)

    post_login(client, "admin", PASSWORD)

    throttled = [r for r in caplog.records if r.msg == "login.throttled"]
    assert [(r.username, r.address) for r in throttled] == [("admin", HOME)]
    assert all(PASSWORD not in str(vars(r)) for r in caplog.records)


# The same rules straight against each database: the upsert is dialect-specific.


def test_counts_are_shared_and_expire_on_every_database(sessions):
    clock = Clock()
    workers = [LoginLimit(clock), LoginLimit(clock)]

    for turn in range(MAX_FAILURES):
        with sessions.begin() as session:
            workers[turn % 2].failed(session, "admin", HOME)
    with sessions() as session, pytest.raises(LoginThrottled) as refused:
        workers[0].check(session, "admin", HOME)
    clock.now += WINDOW
    with sessions() as session:
        workers[1].check(session, "admin", HOME)
    with sessions.begin() as session:
        workers[1].failed(session, "admin", HOME)
    with sessions() as session:
        workers[0].check(session, "admin", HOME)

    assert refused.value.status == 429
    assert refused.value.extra["retry_after"] == WINDOW.total_seconds()

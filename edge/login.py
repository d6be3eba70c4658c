"""The operator password that guards the pages when the edge listens on a LAN.

A tablet's own browser reaches the edge on loopback and needs no login. A gateway
bound to a network address would otherwise let anyone on that network sign
records and read farmers' names, so `serve` refuses to bind one without a
password set, and the pages then require a session login. The signed sync API
authenticates each request itself and is not behind this login.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from edge.config import EdgeConfig
from edge.errors import LoginThrottled

log = logging.getLogger(__name__)

FIELD = "operator"
OPEN_ENDPOINTS = frozenset({"pages.login_page", "static"})
OPEN_BLUEPRINTS = frozenset({"gateway"})
MIN_LENGTH = 8

# Five tries cover an operator's typos on a tablet keyboard; a guesser on the LAN
# gets five passwords per quarter hour. There is one operator password and no
# username, so the lock is per client address: a guesser locks out only the
# machine it guesses from, and the operator's own tablet keeps working. The lock
# is short so a clerk who forgot the password waits minutes, not a day.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@dataclass
class _Failures:
    count: int
    since: datetime


class LoginLimit:
    """Failed logins per client address, in memory: the edge is one process.

    The counts start again when the edge restarts; a guesser able to restart the
    edge already holds the device.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}

    def check(self, address: str) -> None:
        """Raise LoginThrottled while `address` is locked."""
        with self._lock:
            entry = self._failures.get(address)
            left = entry.since + WINDOW - self.clock() if entry else timedelta(0)
        if entry is None or entry.count < MAX_FAILURES or left <= timedelta(0):
            return

        seconds = math.ceil(left.total_seconds())
        log.warning(
            "login.throttled",
            extra={"username": FIELD, "address": address, "retry_after": seconds},
        )
        raise LoginThrottled(
            f"too many wrong passwords; try again in {math.ceil(seconds / 60)} minutes",
            retry_after=seconds,
        )

    def failed(self, address: str) -> None:
        """Count one failure; a window that has passed starts again at one."""
        now = self.clock()
        with self._lock:
            # Forget passed windows so many guessing addresses cannot grow the map.
            for key in [
                k for k, v in self._failures.items() if v.since + WINDOW <= now
            ]:
                del self._failures[key]
            entry = self._failures.setdefault(address, _Failures(0, now))
            entry.count += 1

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


def login_limit(app: Flask) -> LoginLimit:
    """The app's limiter; tests swap its clock."""
    return app.extensions.setdefault("cocoa_edge_login_limit", LoginLimit())


def attempt(config: EdgeConfig, password: str, address: str) -> bool:
    """`check` behind the failure limit: refused while locked, then counted."""
    limit = login_limit(current_app)
    limit.check(address)
    if check(config, password):
        limit.succeeded(address)
        return True

    limit.failed(address)
    return False


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_password(config: EdgeConfig, password: str) -> None:
    """Store a salted hash of the operator password, owner-only, in the home."""
    path = config.password_path
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generate_password_hash(password) + "\n")
    os.replace(tmp, path)


def stored_hash(path: Path) -> str | None:
    return path.read_text(encoding="utf-8").strip() or None if path.exists() else None


def check(config: EdgeConfig, password: str) -> bool:
    wanted = stored_hash(config.password_path)
    return bool(wanted) and check_password_hash(wanted, password)


def init_app(app: Flask, config: EdgeConfig) -> None:
    """Require a login on every page when the app serves a non-loopback address."""
    if is_loopback(config.host):
        return

    def require_login():
        if request.endpoint in OPEN_ENDPOINTS or request.blueprint in OPEN_BLUEPRINTS:
            return None
        if session.get(FIELD) and hmac.compare_digest(session[FIELD], _mark(config)):
            return None
        return redirect(url_for("pages.login_page", next=request.full_path))

    app.before_request(require_login)


def _mark(config: EdgeConfig) -> str:
    """A value tied to the stored hash: changing the password ends old sessions."""
    return (stored_hash(config.password_path) or "")[-16:]


def log_in(config: EdgeConfig) -> None:
    session.clear()
    session[FIELD] = _mark(config)

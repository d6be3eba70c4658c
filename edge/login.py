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
import os
from pathlib import Path

from flask import Flask, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from edge.config import EdgeConfig

FIELD = "operator"
OPEN_ENDPOINTS = frozenset({"pages.login_page", "static"})
OPEN_BLUEPRINTS = frozenset({"gateway"})
MIN_LENGTH = 8


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

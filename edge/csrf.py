"""A small CSRF guard: a per-session token every page form must send back."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session

from edge.errors import CsrfFailed

FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The sync API authenticates each request with a device signature instead.
EXEMPT_BLUEPRINTS = frozenset({"gateway"})


def token() -> str:
    """The session's token, created on first use."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def protect() -> None:
    if request.method not in UNSAFE or request.blueprint in EXEMPT_BLUEPRINTS:
        return

    expected = session.get(FIELD)
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(expected, sent):
        raise CsrfFailed(
            "this form was not sent by this app, or your session ended; "
            "reload the page and try again"
        )


def init_app(app: Flask) -> None:
    app.before_request(protect)
    app.jinja_env.globals["csrf_token"] = token

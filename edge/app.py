"""The edge's Flask app factory and its server."""

from __future__ import annotations

import gc
import logging
import os
import secrets

from flask import Flask
from werkzeug.serving import make_server

from edge import csrf, forms, login, problems
from edge.config import EdgeConfig
from edge.context import EdgeContext
from edge.errors import PasswordRequired

log = logging.getLogger(__name__)


def create_app(config: EdgeConfig | None = None) -> Flask:
    """Build the app for an initialised device home (see `cocoa-edge init`)."""
    config = config or EdgeConfig.from_env()
    ctx = EdgeContext.open(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_session_secret(config),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        TESTING=config.testing,
    )
    app.extensions["cocoa_edge"] = ctx
    csrf.init_app(app)
    login.init_app(app, config)
    app.after_request(_security_headers)
    app.jinja_env.filters["kg"] = forms.format_kg
    problems.init_app(app)

    from edge import gateway, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(gateway.bp)
    return app


# Pages use only their own stylesheet and forms: no script, no frame, no plugin.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _session_secret(config: EdgeConfig) -> bytes:
    """A per-device cookie signing key, made once and kept owner-only in the home."""
    path = config.secret_path
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def serve(config: EdgeConfig) -> None:
    """Serve the app until interrupted, with the sync scheduler when enabled."""
    if not login.is_loopback(config.host) and not config.password_path.exists():
        raise PasswordRequired(
            f"{config.host} is reachable from the network, where anyone could sign "
            "records and read farmers' names; run 'cocoa-edge set-password' first, "
            "or serve on 127.0.0.1"
        )

    app = create_app(config)
    ctx: EdgeContext = app.extensions["cocoa_edge"]
    scheduler = None
    if config.scheduler:
        from edge.scheduler import SyncScheduler

        scheduler = SyncScheduler(ctx)
        scheduler.start()

    # Werkzeug's threaded server: enough for one tablet user or a cooperative's
    # handful of tablets on a LAN; it is not hardened for the open internet.
    server = make_server(config.host, config.port, app, threaded=True)
    # Startup leaves ~70k long-lived objects (SQLAlchemy, Flask, Jinja). A full
    # collection walking them takes tens of milliseconds on a busy tablet and lands
    # inside some form submit; frozen, they are never walked again.
    gc.collect()
    gc.freeze()
    log.info("edge.serving", extra={"host": config.host, "port": server.port})
    print(f"serving on http://{config.host}:{server.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler:
            scheduler.shutdown()
        server.server_close()

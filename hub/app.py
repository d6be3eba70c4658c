"""The hub's application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from hub import blobs, db, errors, headers, logs
from hub.config import HubConfig
from hub.errors import ConfigError
from hub.ingest import Ingestor
from hub.keyring import Keyring, master_secret
from hub.pipeline import Pipeline
from hub.private import private_dir

log = logging.getLogger("hub.app")


def create_app(config: HubConfig | Mapping | None = None) -> Flask:
    """Build a hub from `config`, or from the environment when none is given."""
    if not isinstance(config, HubConfig):
        config = HubConfig.from_env().with_overrides(config or {})

    logs.configure(config.log_format, config.log_level)
    private_dir(config.home)
    keyring = Keyring.from_secret(master_secret(config.secret_key, config.home))

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=keyring.session_key,
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=config.max_batch_bytes,
    )
    app.extensions["cocoa_config"] = config
    app.extensions["cocoa_keyring"] = keyring

    database = db.Database(config.database_url)
    if config.auto_migrate:
        from hub.migrate import upgrade

        upgrade(database.engine)

    db.init_app(app, database)
    logs.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    app.extensions["cocoa_blobs"] = blobs.from_url(config.blobs)
    app.extensions["cocoa_ingestor"] = Ingestor(keyring)
    app.extensions["cocoa_pipeline"] = _pipeline(config, database, keyring)
    _register_blueprints(app)
    log.info("hub.started", extra={"ledger": config.ledger, "db": database.engine.name})
    return app


def _pipeline(config: HubConfig, database: db.Database, keyring: Keyring) -> Pipeline:
    if config.ledger != "embedded":
        # The Fabric Gateway adapter is not part of this hub build: the hub can only
        # commit to its embedded ledger, so refusing to start is safer than silently
        # keeping records pending forever.
        raise ConfigError(
            "COCOA_HUB_LEDGER=fabric is not supported by this hub build yet; "
            "use COCOA_HUB_LEDGER=embedded"
        )

    pipeline = Pipeline(
        database, keyring, config.ledger_interval_s, config.ledger_after_ingest
    )
    if config.ledger_interval_s > 0 and not config.testing:
        pipeline.start()
    return pipeline


def _register_blueprints(app: Flask) -> None:
    from hub import api, console, health, sync_api

    app.register_blueprint(health.bp)
    app.register_blueprint(sync_api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(console.bp)

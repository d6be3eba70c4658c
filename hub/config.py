"""Every environment variable the hub reads, in one place."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

from hub.errors import ConfigError

LEDGERS = ("embedded", "fabric")
DEFAULT_HOME = "var/hub"


@dataclass(frozen=True)
class HubConfig:
    """Settings of one hub process; built from the environment or given by a test."""

    home: Path
    database_url: str
    blobs: str
    ledger: str = "embedded"
    secret_key: str | None = None
    # None answers with the address each request came in on; set it behind a proxy.
    public_url: str | None = None
    log_format: str = "text"
    log_level: str = "INFO"
    # Creating the schema at start-up suits the SQLite demo; PostgreSQL deployments
    # run `cocoa-hub db upgrade` as a release step instead.
    auto_migrate: bool = True
    # The ledger commit job runs in-process unless a separate worker does it.
    ledger_interval_s: float = 5.0
    # Wake the commit job after each ingest; off leaves it to the interval alone,
    # which suits bulk back-fills where ingest should have the CPU.
    ledger_after_ingest: bool = True
    request_max_skew_s: int = 24 * 3600
    max_batch_bytes: int = 8 * 1024 * 1024
    fabric_gateway: str | None = None
    testing: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubConfig:
        env = os.environ if env is None else env
        home = Path(env.get("COCOA_HUB_HOME", DEFAULT_HOME)).absolute()
        url = database_url(
            env.get("COCOA_HUB_DATABASE_URL") or _url_from_parts(env, home)
        )
        ledger = env.get("COCOA_HUB_LEDGER", "embedded")
        if ledger not in LEDGERS:
            raise ConfigError(
                f"COCOA_HUB_LEDGER must be one of {LEDGERS}, got {ledger!r}"
            )

        return cls(
            home=home,
            database_url=url,
            blobs=env.get("COCOA_HUB_BLOBS") or f"local:{home / 'blobs'}",
            ledger=ledger,
            secret_key=env.get("COCOA_HUB_SECRET_KEY") or None,
            public_url=env.get("COCOA_HUB_PUBLIC_URL") or None,
            log_format=env.get("COCOA_HUB_LOG_FORMAT", "text"),
            log_level=env.get("COCOA_HUB_LOG_LEVEL", "INFO"),
            auto_migrate=_flag(
                env.get("COCOA_HUB_AUTO_MIGRATE"), url.startswith("sqlite")
            ),
            ledger_interval_s=float(env.get("COCOA_HUB_LEDGER_INTERVAL", "5")),
            ledger_after_ingest=_flag(env.get("COCOA_HUB_LEDGER_AFTER_INGEST"), True),
            fabric_gateway=env.get("COCOA_HUB_FABRIC_GATEWAY") or None,
        )

    def with_overrides(self, overrides: Mapping) -> HubConfig:
        return replace(self, **overrides)


def database_url(url: str) -> str:
    """`url` with the psycopg2 driver named when a PostgreSQL URL names none."""
    # SQLAlchemy 2.1 takes a bare postgresql:// to mean psycopg 3; we ship psycopg2.
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    return url


def _url_from_parts(env: Mapping[str, str], home: Path) -> str:
    """Build a PostgreSQL URL from the parts a managed deployment hands over."""
    host = env.get("COCOA_HUB_DB_HOST")
    if not host:
        return f"sqlite:///{home / 'hub.sqlite'}"

    # A managed secret arrives as JSON {"username", "password"} (RDS convention).
    try:
        creds = json.loads(env.get("COCOA_HUB_DB_CREDENTIALS", "{}"))
    except ValueError:
        raise ConfigError("COCOA_HUB_DB_CREDENTIALS must be JSON") from None
    user = quote(creds.get("username", "cocoa"), safe="")
    password = quote(creds.get("password", ""), safe="")
    port = env.get("COCOA_HUB_DB_PORT", "5432")
    name = env.get("COCOA_HUB_DB_NAME", "cocoa")
    return f"postgresql+psycopg2://{user}:{password}@{host}:{port}/{name}"


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default

    return value.strip().lower() in ("1", "true", "yes", "on")

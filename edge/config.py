"""Edge configuration, read from the environment in this one module."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from shared.errors import CocoaError

DEFAULT_HOME = "~/.cocoa-edge"
DEFAULT_PORT = 8470


class ConfigInvalid(CocoaError):
    status = 500
    code = "config-invalid"
    title = "An environment variable holds a value the edge cannot use"


def port_number(text: str | int) -> int:
    """A TCP port, 1 to 65535; ValueError otherwise."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1-65535")
    return port


def _read(env: Mapping[str, str], name: str, default, parse, expected: str):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise ConfigInvalid(f"{name}={raw!r} is not valid; expected {expected}")
    return value


@dataclass(frozen=True)
class EdgeConfig:
    """Where the edge keeps its data and how it syncs."""

    home: Path
    passphrase: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    upstream: str | None = None
    batch_records: int = 200
    # Record bytes per batch before compression, so the frame on the wire is smaller.
    batch_bytes: int = 64 * 1024
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    batch_deadline_s: float = 180.0
    sync_window: str = "02:00"
    scheduler: bool = True
    import_accuracy_m: float = 10.0
    testing: bool = False

    @property
    def db_path(self) -> Path:
        return self.home / "edge.sqlite3"

    @property
    def key_path(self) -> Path:
        return self.home / "device.key"

    @property
    def label_path(self) -> Path:
        return self.home / "label"

    @property
    def secret_path(self) -> Path:
        return self.home / "session.secret"

    @property
    def password_path(self) -> Path:
        return self.home / "operator.password"

    @property
    def attachments_dir(self) -> Path:
        return self.home / "attachments"

    @property
    def sync_lock_path(self) -> Path:
        return self.home / "sync.lock"

    def but(self, **changes) -> EdgeConfig:
        """A copy with some fields changed (for tests and CLI flags)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EdgeConfig:
        env = os.environ if environ is None else environ
        home = Path(env.get("COCOA_EDGE_HOME", DEFAULT_HOME)).expanduser()
        number = "a positive number"
        whole = "a positive whole number"
        return cls(
            home=home,
            passphrase=env.get("COCOA_EDGE_PASSPHRASE") or None,
            host=env.get("COCOA_EDGE_HOST", "127.0.0.1"),
            port=_read(
                env, "COCOA_EDGE_PORT", DEFAULT_PORT, port_number, "a port, 1-65535"
            ),
            upstream=env.get("COCOA_EDGE_UPSTREAM") or None,
            batch_records=_read(env, "COCOA_EDGE_BATCH_RECORDS", 200, int, whole),
            batch_bytes=_read(env, "COCOA_EDGE_BATCH_KIB", 64, int, whole) * 1024,
            connect_timeout_s=_read(
                env, "COCOA_EDGE_CONNECT_TIMEOUT", 10.0, float, number
            ),
            read_timeout_s=_read(env, "COCOA_EDGE_READ_TIMEOUT", 60.0, float, number),
            batch_deadline_s=_read(
                env, "COCOA_EDGE_BATCH_DEADLINE", 180.0, float, number
            ),
            sync_window=env.get("COCOA_EDGE_SYNC_WINDOW", "02:00"),
            scheduler=env.get("COCOA_EDGE_SCHEDULER", "1") != "0",
            import_accuracy_m=_read(
                env, "COCOA_EDGE_IMPORT_ACCURACY_M", 10.0, float, number
            ),
        )

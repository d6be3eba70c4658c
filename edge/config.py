"""Edge configuration, read from the environment in this one module."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_HOME = "~/.cocoa-edge"
DEFAULT_PORT = 8470


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
        return cls(
            home=home,
            passphrase=env.get("COCOA_EDGE_PASSPHRASE") or None,
            host=env.get("COCOA_EDGE_HOST", "127.0.0.1"),
            port=int(env.get("COCOA_EDGE_PORT", DEFAULT_PORT)),
            upstream=env.get("COCOA_EDGE_UPSTREAM") or None,
            batch_records=int(env.get("COCOA_EDGE_BATCH_RECORDS", 200)),
            batch_bytes=int(env.get("COCOA_EDGE_BATCH_KIB", 64)) * 1024,
            connect_timeout_s=float(env.get("COCOA_EDGE_CONNECT_TIMEOUT", 10)),
            read_timeout_s=float(env.get("COCOA_EDGE_READ_TIMEOUT", 60)),
            batch_deadline_s=float(env.get("COCOA_EDGE_BATCH_DEADLINE", 180)),
            sync_window=env.get("COCOA_EDGE_SYNC_WINDOW", "02:00"),
            scheduler=env.get("COCOA_EDGE_SCHEDULER", "1") != "0",
            import_accuracy_m=float(env.get("COCOA_EDGE_IMPORT_ACCURACY_M", 10)),
        )

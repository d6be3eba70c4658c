"""The edge's runtime: configuration, database, device key; shared by app and CLI."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from edge import journal, schema
from edge.config import EdgeConfig
from edge.db import make_engine, make_sessions, transaction
from edge.errors import AlreadyExists, NotEnrolled, NotInitialised
from edge.models import Attachment, Enrollment, SyncStatus
from shared.keys import DeviceKey


@dataclass
class EdgeContext:
    """Everything a request, a CLI command or a sync job needs."""

    config: EdgeConfig
    engine: Engine
    sessions: sessionmaker[Session]
    key: DeviceKey

    @classmethod
    def open(cls, config: EdgeConfig) -> EdgeContext:
        """Open an initialised device's home; migrate its database if needed."""
        if not config.key_path.exists():
            raise NotInitialised(
                f"no device key in {config.home}; run 'cocoa-edge init' first"
            )

        key = DeviceKey.load(config.key_path, config.passphrase)
        engine = open_database(config)
        return cls(config, engine, make_sessions(engine), key)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session

    def append(self, rtype: str, body: dict) -> journal.Appended:
        """Sign and commit one record; returns only after the commit."""
        with self.transaction() as session:
            return journal.append(session, self.key, rtype, body)

    def add_attachment(self, name: str, media_type: str, data: bytes) -> dict:
        """Keep a file for upload; returns the entry a body's `attachments` lists."""
        sha = hashlib.sha256(data).hexdigest()
        folder = self.config.attachments_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha).write_bytes(data)
        with self.transaction() as session:
            if session.get(Attachment, sha) is None:
                session.add(
                    Attachment(
                        sha256=sha, name=name, media_type=media_type, size=len(data)
                    )
                )
        return {"sha256": sha, "name": name, "media_type": media_type}

    def enrollment(self, session: Session) -> Enrollment | None:
        return session.scalars(select(Enrollment)).first()

    def require_enrollment(self, session: Session) -> Enrollment:
        enrollment = self.enrollment(session)
        if enrollment is None:
            raise NotEnrolled("enroll first: cocoa-edge enroll --hub URL --token T")
        return enrollment

    def sync_status(self, session: Session) -> SyncStatus:
        status = session.get(SyncStatus, 1)
        if status is None:
            status = SyncStatus(id=1)
            session.add(status)
            session.flush()
        return status

    @property
    def label(self) -> str | None:
        path = self.config.label_path
        return path.read_text(encoding="utf-8").strip() if path.exists() else None

    @property
    def is_gateway(self) -> bool:
        with self.transaction() as session:
            enrollment = self.enrollment(session)
            return bool(enrollment and enrollment.kind == "gateway")


def open_database(config: EdgeConfig) -> Engine:
    make_home(config)
    engine = make_engine(config.db_path)
    schema.upgrade(engine)
    return engine


def make_home(config: EdgeConfig) -> None:
    config.home.mkdir(parents=True, exist_ok=True)
    os.chmod(config.home, 0o700)


def init_device(
    config: EdgeConfig, passphrase: str | None, label: str | None = None
) -> DeviceKey:
    """Create the device key (owner-only, optionally encrypted) and the database."""
    make_home(config)
    if config.key_path.exists():
        raise AlreadyExists(f"{config.key_path} exists already; this device has a key")

    key = DeviceKey.generate()
    key.save(config.key_path, passphrase)
    if label:
        config.label_path.write_text(label + "\n", encoding="utf-8")
    open_database(config).dispose()
    return key

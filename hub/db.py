"""Engine and sessions: one session per request, one per background job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from hub.private import private_sqlite


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout for concurrent use."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, future=True)

    private_sqlite(url)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(conn) -> None:
    # A writer takes the lock up front: a deferred transaction that reads, then
    # writes after another writer committed fails at once instead of waiting.
    immediate = conn.get_execution_options().get("writer", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(writer=True)
        self.write_sessions = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A job's writing session: committed on success, rolled back on error."""
        with self.write_sessions() as session, session.begin():
            yield session


def init_app(app: Flask, db: Database) -> None:
    app.extensions["cocoa_db"] = db

    @app.teardown_appcontext
    def _close(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def database() -> Database:
    return current_app.extensions["cocoa_db"]


def session() -> Session:
    """The current request's session; views commit it when they mean to."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session

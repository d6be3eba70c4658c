"""Bulk insert paths: COPY on PostgreSQL and executemany on SQLite keep every value."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from hub.bulk import bind_values, insert_rows
from hub.models import Rejection

COLUMNS = ("batch_id", "sender_device", "device_id", "seq", "record_id", "raw")
TAIL = ("signature", "code", "detail", "received_at")
AWKWARD = "tab\there, newline\nhere, cr\rhere, backslash \\N and \\x00, quote \" ' é"


def test_awkward_values_round_trip(sessions, tablet):
    now = datetime(2026, 11, 2, 8, 0, 0, 123456, tzinfo=timezone.utc)
    raw = bytes(range(256))
    rows = [
        ("b1", tablet.device, None, None, "r" * 64, raw),
        ("b1", tablet.device, tablet.device, 2**40, "s" * 64, b""),
    ]

    with sessions.begin() as session:
        shared = bind_values(
            session,
            Rejection.__table__,
            {
                "signature": bytes(64),
                "code": "x",
                "detail": AWKWARD,
                "received_at": now,
            },
        )
        tail = tuple(shared[name] for name in TAIL)
        insert_rows(
            session, Rejection.__table__, COLUMNS + TAIL, [r + tail for r in rows]
        )

    with sessions() as session:
        got = session.scalars(select(Rejection).order_by(Rejection.id)).all()
    assert [(g.device_id, g.seq, g.raw) for g in got] == [
        (None, None, raw),
        (tablet.device, 2**40, b""),
    ]
    assert {g.detail for g in got} == {AWKWARD}
    assert {g.received_at for g in got} == {now}
    assert {g.signature for g in got} == {bytes(64)}


def test_no_rows_is_no_statement(sessions, tablet):
    with sessions.begin() as session:
        insert_rows(session, Rejection.__table__, COLUMNS, [])

    with sessions() as session:
        assert session.scalars(select(Rejection)).all() == []

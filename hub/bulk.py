"""Multi-row writes that SQLAlchemy's ORM would issue one row at a time.

Ingest inserts records as plain tuples (COPY on PostgreSQL, executemany elsewhere):
the ORM's bulk insert spent more time per row than the rest of an ingest apart from
the signature check. Values must already be what the column stores: convert shared
ones with `bind_values`. Projections and ledger state upsert and update in chunks.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, cast, column, update, values
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def bind_values(session: Session, table: Table, given: dict[str, Any]) -> dict:
    """Convert values shared by every row (times, flags) once, as the driver needs."""
    dialect = session.get_bind().dialect
    out = {}
    for name, value in given.items():
        if isinstance(value, bytes):
            # Every driver takes bytes as they are; psycopg2's wrapper would not
            # survive COPY's text format.
            out[name] = value
            continue
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        out[name] = process(value) if process else value
    return out


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Insert `rows` (tuples in `columns` order) inside the session's transaction."""
    if not rows:
        return

    conn = session.connection()
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        buffer = io.StringIO()
        buffer.writelines(_copy_line(row) for row in rows)
        buffer.seek(0)
        with conn.connection.dbapi_connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN", buffer)
        return

    marks = ", ".join(_placeholders(conn.dialect.paramstyle, len(columns)))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


def _placeholders(paramstyle: str, count: int) -> Iterable[str]:
    mark = "?" if paramstyle == "qmark" else "%s"
    return [mark] * count


def _copy_line(row: tuple) -> str:
    return "\t".join(map(_copy_field, row)) + "\n"


def _copy_field(value: Any) -> str:
    # COPY's text format: \N is NULL, and backslash, tab and newlines are escaped.
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_TEXT_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def upsert(session: Session, model, rows: Sequence[dict], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other column given, in one go."""
    if not rows:
        return

    # The Table, not the mapped class: ORM bulk inserts split the rows into one
    # statement per run of rows whose None columns differ.
    insert = _INSERTS[session.bind.dialect.name]
    stmt = insert(model.__table__)
    columns = [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(stmt, list(rows))


def update_rows(session: Session, model, rows: Sequence[dict], key: str) -> None:
    """UPDATE many rows by `key`, each with its own values, in one statement."""
    if not rows:
        return

    if session.bind.dialect.name != "postgresql":
        # SQLite runs in-process: executemany costs no round trips.
        session.execute(update(model), list(rows))
        return

    # psycopg2 sends an executemany UPDATE one row at a time; UPDATE … FROM
    # (VALUES …) sends the chunk at once. Casts type the all-NULL columns.
    table = model.__table__
    names = list(rows[0])
    data = values(*[column(n, table.c[n].type) for n in names], name="v")
    data = data.data([tuple(r[n] for n in names) for r in rows])
    changes = {n: cast(data.c[n], table.c[n].type) for n in names if n != key}
    session.execute(update(table).where(table.c[key] == data.c[key]).values(changes))

"""Bulk insert of many rows in one statement: COPY on PostgreSQL, executemany else.

The ORM's bulk insert spends more time per row than the rest of an ingest apart from
the signature check; these paths hand the driver plain tuples instead. Values must
already be what the column stores: the caller converts them with `bind_values`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def bind_values(session: Session, table: Table, values: dict[str, Any]) -> dict:
    """Convert values shared by every row (times, flags) once, as the driver needs."""
    dialect = session.get_bind().dialect
    out = {}
    for name, value in values.items():
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

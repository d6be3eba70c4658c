"""Multi-row writes that SQLAlchemy's ORM would issue one row at a time."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import cast, column, update, values
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


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

"""Multi-row writes that SQLAlchemy's ORM would issue one row at a time."""

from __future__ import annotations

from collections.abc import Sequence

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

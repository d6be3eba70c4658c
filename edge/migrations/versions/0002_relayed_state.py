"""Records in a gateway's custody: the `relayed` state and the settling hub batch.

A tablet's record that a gateway has taken but the hub has not yet answered for
is `relayed`, no longer `acknowledged`; a gateway's relay row names the hub batch
whose signed receipt settled it, so its tablet can check the hub's word. SQLite
cannot alter a CHECK constraint, so both tables are copied; on a tablet with a
large journal this takes a moment and twice the journal's disk space.

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-12 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD = ("pending", "sent", "acknowledged", "quarantined", "rejected")
NEW = ("pending", "sent", "relayed", "acknowledged", "quarantined", "rejected")
CHECKS = (("journal", "ck_journal_record_state"), ("relay", "ck_relay_relay_state"))


def _in(states: tuple[str, ...]) -> str:
    return "state IN ({})".format(", ".join(f"'{s}'" for s in states))


def _set_check(states: tuple[str, ...]) -> None:
    for table, check in CHECKS:
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(check), type_="check")
            batch_op.create_check_constraint(op.f(check), _in(states))


def upgrade() -> None:
    _set_check(NEW)
    with op.batch_alter_table("relay") as batch_op:
        batch_op.add_column(sa.Column("upstream_batch", sa.String(80), nullable=True))


def downgrade() -> None:
    # Relayed records were "acknowledged" before this revision: the old meaning.
    op.execute("UPDATE journal SET state = 'acknowledged' WHERE state = 'relayed'")
    with op.batch_alter_table("relay") as batch_op:
        batch_op.drop_column("upstream_batch")
    _set_check(OLD)

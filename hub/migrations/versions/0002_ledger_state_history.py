"""History of the embedded ledger's world state, for the journey rules

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10 09:00:00

The embedded ledger now applies shared.journey; each key it writes gets a history
row here, like a Fabric peer's history database. A new, empty table: no lock on
existing data.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_state_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("time", sa.String(length=20), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state_history")),
    )
    op.create_index(
        op.f("ix_ledger_state_history_key"),
        "ledger_state_history",
        ["key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_ledger_state_history_key"), table_name="ledger_state_history"
    )
    op.drop_table("ledger_state_history")

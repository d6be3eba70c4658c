"""The organisations of the hub's reference data, so dispatches name a known one.

A new table only; existing rows are untouched and the table fills on the next sync.

Revision ID: 0003
Revises: 0002
Create Date: 2027-02-02 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=True),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_organisation")),
    )
    op.create_index(op.f("ix_organisation_rev"), "organisation", ["rev"])


def downgrade() -> None:
    op.drop_index(op.f("ix_organisation_rev"), table_name="organisation")
    op.drop_table("organisation")

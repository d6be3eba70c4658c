"""Failed console logins, counted per username and client address

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-12 10:00:00

Every gunicorn worker reads and writes these counts, so a guesser cannot spread
attempts over workers. A new, empty table: no lock on existing data.
"""

import sqlalchemy as sa
from alembic import op

import hub.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "window_started_at", hub.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_login_failures")),
    )
    op.create_index(
        op.f("ix_login_failures_window_started_at"),
        "login_failures",
        ["window_started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_login_failures_window_started_at"), table_name="login_failures"
    )
    op.drop_table("login_failures")

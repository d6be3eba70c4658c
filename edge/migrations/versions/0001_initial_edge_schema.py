"""Initial edge schema: journal, relay, enrollment, sync state and projections.

Creates every table from nothing; the downgrade drops them all, losing every
record on the device, so run it only on a copy.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 15:57:48.036624
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_attachment")),
    )
    op.create_table(
        "counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counter")),
    )
    op.create_table(
        "enrollment",
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=True),
        sa.Column("org", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("hub_url", sa.String(length=500), nullable=False),
        sa.Column("hub_key", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_enrollment")),
    )
    op.create_table(
        "farmer",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("village", sa.String(length=120), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_farmer")),
    )
    with op.batch_alter_table("farmer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_farmer_rev"), ["rev"], unique=False)

    op.create_table(
        "import_row",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("run", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_import_row")),
    )
    with op.batch_alter_table("import_row", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_row_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_row_run"), ["run"], unique=False)

    op.create_table(
        "journal",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sent",
                "acknowledged",
                "quarantined",
                "rejected",
                name="record_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("state_code", sa.String(length=40), nullable=True),
        sa.Column("state_detail", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal")),
        sa.UniqueConstraint("id", name=op.f("uq_journal_id")),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index("ix_journal_state", ["state"], unique=False)

    op.create_table(
        "lot",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("mass_g", sa.Integer(), nullable=False),
        sa.Column("remaining_g", sa.Integer(), nullable=False),
        sa.Column("dispatched_to", sa.String(length=40), nullable=True),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot")),
    )
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_rev"), ["rev"], unique=False)

    op.create_table(
        "peer_device",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_device")),
    )
    with op.batch_alter_table("peer_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_peer_device_rev"), ["rev"], unique=False)

    op.create_table(
        "plot",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("farmer", sa.String(length=64), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("area_ha", sa.Double(), nullable=True),
        sa.Column("declared_area_ha", sa.Double(), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plot")),
    )
    with op.batch_alter_table("plot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plot_farmer"), ["farmer"], unique=False)
        batch_op.create_index(batch_op.f("ix_plot_rev"), ["rev"], unique=False)

    op.create_table(
        "purchase",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("farmer", sa.String(length=64), nullable=False),
        sa.Column("plot", sa.String(length=64), nullable=False),
        sa.Column("mass_g", sa.Integer(), nullable=False),
        sa.Column("remaining_g", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase")),
    )
    op.create_table(
        "receipt",
        sa.Column("batch", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer", sa.String(length=40), nullable=False),
        sa.Column("frame_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("batch", name=op.f("pk_receipt")),
    )
    op.create_table(
        "relay",
        sa.Column("device", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sent",
                "acknowledged",
                "quarantined",
                "rejected",
                name="relay_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("state_code", sa.String(length=40), nullable=True),
        sa.Column("state_detail", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device", "seq", name=op.f("pk_relay")),
        sa.UniqueConstraint("id", name=op.f("uq_relay_id")),
    )
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.create_index("ix_relay_state", ["state"], unique=False)

    op.create_table(
        "sync_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "idle",
                "syncing",
                "succeeded",
                "interrupted",
                "failed",
                "auth-needed",
                name="sync_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("phase", sa.String(length=40), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_retry_at", sa.DateTime(), nullable=True),
        sa.Column("reference_cursor", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_status")),
    )
    op.create_table(
        "lot_input",
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("purchase", sa.String(length=64), nullable=False),
        sa.Column("mass_g", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lot"], ["lot.id"], name=op.f("fk_lot_input_lot_lot")),
        sa.PrimaryKeyConstraint("lot", "purchase", name=op.f("pk_lot_input")),
    )


def downgrade() -> None:
    op.drop_table("lot_input")
    op.drop_table("sync_status")
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_state")

    op.drop_table("relay")
    op.drop_table("receipt")
    op.drop_table("purchase")
    with op.batch_alter_table("plot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plot_rev"))
        batch_op.drop_index(batch_op.f("ix_plot_farmer"))

    op.drop_table("plot")
    with op.batch_alter_table("peer_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_peer_device_rev"))

    op.drop_table("peer_device")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_rev"))

    op.drop_table("lot")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_state")

    op.drop_table("journal")
    with op.batch_alter_table("import_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_row_run"))
        batch_op.drop_index(batch_op.f("ix_import_row_code"))

    op.drop_table("import_row")
    with op.batch_alter_table("farmer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_farmer_rev"))

    op.drop_table("farmer")
    op.drop_table("enrollment")
    op.drop_table("counter")
    op.drop_table("attachment")

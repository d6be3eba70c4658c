import json
import subprocess
import sys

from alembic.script import ScriptDirectory
from sqlalchemy import text

from edge import schema
from edge.context import open_database
from edge.models import Base

# Modules an idle `cocoa-edge serve` (app and scheduler) must not load: the import page, the plot form,
# a sync or a schema change pays for them when it happens.
HEAVY = ("alembic", "shapely", "pyproj", "numpy", "requests")
PROBE = """
import json, sys
from edge.app import create_app
from edge.config import EdgeConfig
from edge.scheduler import SyncScheduler
app = create_app(EdgeConfig.from_env())
scheduler = SyncScheduler(app.extensions["cocoa_edge"])
scheduler.start()
scheduler.shutdown()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_head_is_the_newest_migration():
    scripts = ScriptDirectory.from_config(schema.alembic_config())

    newest = scripts.get_current_head()

    assert newest == schema.HEAD


def test_a_new_database_is_migrated_to_head(edge_config):
    engine = open_database(edge_config)

    stored = schema.stored_revision(engine)

    engine.dispose()
    assert stored == schema.HEAD


def test_a_database_not_at_head_is_upgraded(ctx):
    with ctx.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE alembic_version"))

    schema.upgrade(ctx.engine)

    with ctx.engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert "counter" in tables
    assert schema.stored_revision(ctx.engine) == schema.HEAD


def test_an_idle_app_loads_no_heavy_module(ctx, monkeypatch):
    monkeypatch.setenv("COCOA_EDGE_HOME", str(ctx.config.home))

    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )

    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_relayed_migration_keeps_records_and_admits_the_new_state(ctx):
    from alembic import command

    ctx.append("farmer", {"id": "F-1", "name": "Ama"})
    cfg = schema.alembic_config()
    with ctx.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")

    schema.upgrade(ctx.engine)

    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE journal SET state = 'relayed'"))
        kept = conn.execute(text("SELECT seq, state FROM journal")).all()
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(relay)"))]
    assert kept == [(1, "relayed")]
    assert "upstream_batch" in columns
    assert schema.stored_revision(ctx.engine) == schema.HEAD


def test_the_organisation_migration_goes_down_and_up(ctx):
    from alembic import command

    cfg = schema.alembic_config()
    with ctx.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        gone = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()

    schema.upgrade(ctx.engine)

    with ctx.engine.begin() as conn:
        back = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert "organisation" not in gone
    assert "organisation" in back

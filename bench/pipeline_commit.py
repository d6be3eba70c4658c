"""Ledger commit + projection speed: `python -m bench.pipeline_commit [--postgres]`.

Stores a whole valid season (farmers, plots, harvests, purchases, lots, shipments,
receipts, processing, sales) through the ingest path, untimed, then times
`run_until_done`: every record committed to the embedded ledger and projected.
With --postgres it uses a fresh database on the repository's local cluster.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from hub import enrollment
from hub.db import Database
from hub.ingest import Ingestor
from hub.keyring import Keyring
from hub.migrate import upgrade
from hub.models import Organisation, Record, TraceEvent
from hub.pipeline import run_until_done
from shared.keys import DeviceKey
from shared.record import GENESIS, SignedRecord, sign_record
from shared.wire import Segment, encode_batch

COOP, MAKER = "coop-soubre", "choco-abidjan"
TIME = "2026-11-02T08:00:00Z"
PURCHASES_PER_LOT, LOTS_PER_SHIPMENT, FARMERS = 10, 4, 50
SQUARE = [[-6.60, 5.78], [-6.59, 5.78], [-6.59, 5.79], [-6.60, 5.79], [-6.60, 5.78]]


class Stream:
    """One device's chain of signed records."""

    def __init__(self, seed: int):
        self.key = DeviceKey.from_seed(bytes([seed]) * 32)
        self.records: list[SignedRecord] = []

    def add(self, rtype: str, body: dict) -> None:
        prev = self.records[-1].id if self.records else GENESIS
        seq = len(self.records) + 1
        self.records.append(sign_record(self.key, rtype, seq, prev, body, TIME))


def season(total: int, tablets: int = 3) -> tuple[list[Stream], Stream]:
    """Cooperative tablets and one factory tablet, about `total` records in all."""
    coops = [Stream(10 + n) for n in range(tablets)]
    factory = Stream(40)
    for n, tablet in enumerate(coops):
        for f in range(FARMERS):
            code = f"CI-{n}-{f:04d}"
            tablet.add("farmer", {"id": code, "name": f"Farmer {f}"})
            tablet.add("plot", _plot(code))

    shipment = 0
    while sum(len(s.records) for s in [*coops, factory]) < total:
        tablet = coops[shipment % tablets]
        lots = [_lot(tablet, shipment, n) for n in range(LOTS_PER_SHIPMENT)]
        ship = f"SHP-{shipment}"
        tablet.add("dispatch", {"id": ship, "lots": lots, "to_org": MAKER})
        for lot in lots:
            tablet.add("transfer", {"asset": lot, "to_org": MAKER})
        _factory(factory, ship, lots)
        shipment += 1

    return coops, factory


def _plot(code: str) -> dict:
    geometry = {"type": "Polygon", "coordinates": [SQUARE]}
    return {
        "id": f"{code}-P1",
        "farmer": code,
        "geometry": geometry,
        "gps_accuracy_m": 4,
    }


def _lot(tablet: Stream, shipment: int, n: int) -> str:
    tag = f"{shipment}-{n}"
    farmer_set = tablet.records[0].header().body["id"].rsplit("-", 1)[0]
    inputs = []
    for p in range(PURCHASES_PER_LOT):
        code = f"{farmer_set}-{p * 3 % FARMERS:04d}"
        harvest = {"id": f"H-{tag}-{p}", "farmer": code, "plot": f"{code}-P1"}
        tablet.add(
            "harvest", harvest | {"mass_g": 90_000, "harvested_on": "2026-10-30"}
        )
        tablet.add(
            "purchase",
            {
                "id": f"P-{tag}-{p}",
                "farmer": code,
                "plot": f"{code}-P1",
                "harvest": f"H-{tag}-{p}",
                "mass_g": 80_000,
                "grade": "grade-1",
                "price": 144_000,
                "currency": "XOF",
            },
        )
        inputs.append({"purchase": f"P-{tag}-{p}", "mass_g": 79_000})

    tablet.add("lot", {"id": f"LOT-{tag}", "inputs": inputs, "bags": 12})
    return f"LOT-{tag}"


def _factory(factory: Stream, ship: str, lots: list[str]) -> None:
    mass = 79_000 * PURCHASES_PER_LOT
    received = [{"lot": lot, "mass_g": mass - 500} for lot in lots]
    factory.add("receipt", {"shipment": ship, "lots": received})
    inputs = [{"lot": lot, "mass_g": mass - 1000} for lot in lots]
    bar = f"BAR-{ship}"
    factory.add(
        "processing",
        {"id": bar, "product": "Dark 70 %", "units": 500, "inputs": inputs},
    )
    factory.add("sale", {"id": f"S-{ship}", "batch": bar, "units": 200})


def load(database: Database, keyring: Keyring, total: int) -> int:
    """Enrol the devices and ingest the season; answer the record count."""
    coops, factory = season(total)
    with database.session() as session:
        coop = Organisation(slug=COOP, name="Coop", kind="cooperative")
        maker = Organisation(slug=MAKER, name="Choco", kind="manufacturer")
        session.add_all([coop, maker])
        session.flush()
        for stream in coops:
            _enrol(session, stream, coop.id, "cooperative")
        _enrol(session, factory, maker.id, "manufacturer")

    ingestor = Ingestor(keyring)
    for stream in [*coops, factory]:
        for start in range(0, len(stream.records), 1000):
            chunk = stream.records[start : start + 1000]
            seg = Segment(stream.key.device_id, start + 1, chunk)
            with database.write_sessions() as session:
                ingestor.ingest(session, stream.key.device_id, encode_batch([seg]))

    return sum(len(s.records) for s in [*coops, factory])


def _enrol(session, stream: Stream, org_id: int, role: str) -> None:
    enrollment.register(session, stream.key.public_raw, org_id, role, "tablet", "b")


@contextmanager
def _database(postgres: bool) -> Iterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'hub.sqlite'}"
        return

    from tests.support import postgres as pg

    with pg.fresh_database(pg.start()) as url:
        yield url.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    keyring = Keyring.from_secret("bench secret")
    with _database(args.postgres) as url:
        database = Database(url)
        upgrade(database.engine)
        count = load(database, keyring, args.records)

        started = time.perf_counter()
        run_until_done(database, keyring)
        seconds = time.perf_counter() - started

        with database.session() as session:
            ledger = Counter(session.scalars(select(Record.ledger_status)).all())
            events = session.scalar(select(func.count()).select_from(TraceEvent))
        database.engine.dispose()

    report = {
        "database": "postgresql" if args.postgres else "sqlite",
        "records": count,
        "seconds": round(seconds, 2),
        "records_per_s": round(count / seconds),
        "ledger": dict(ledger),
        "trace_events": events,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

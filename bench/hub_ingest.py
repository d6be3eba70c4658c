"""Hub ingest throughput: end to end over HTTP, verify-only and insert-only baselines.

The end-to-end figure runs a real `cocoa-hub serve --workers N` on loopback against
the database given, with one client thread per device posting pre-signed CTB1
batches in order; every record must come back `accepted`. The ledger commit job is
held off (`COCOA_HUB_LEDGER_AFTER_INGEST=false`) so the figure is ingest alone.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy.orm import sessionmaker

from bench.procs import env_with, free_port, start, stop, tree_cpu_seconds
from bench.season import DeviceStream
from hub import enrollment
from hub.db import make_engine
from hub.device_auth import authorization
from hub.ingest import insert_records
from hub.migrate import upgrade
from hub.models import Organisation, utcnow
from shared.record import parse
from shared.wire import MEDIA_TYPE, Segment, encode_batch

PATH = "/api/v1/sync/batches"

# Work for forked pool processes: set before the pool starts, read by index, so
# no record is pickled while the clock runs.
_WORK: list = []


@dataclass(frozen=True)
class Run:
    """One measured run: how many records, how long, and the CPU the work used.

    CPU per record is a cost that other load on the machine does not change, so it
    compares runs on a busy machine where records/s cannot.
    """

    records: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_us(self) -> float:
        """CPU microseconds spent per record."""
        return self.cpu_seconds / self.records * 1e6


def frames(streams: list[DeviceStream], batch: int) -> dict[str, list[tuple]]:
    """Per device, its (key, CTB1 frame) list in seq order, `batch` records each."""
    out: dict[str, list[tuple]] = {}
    for stream in streams:
        recs, dev = stream.records, stream.key.device_id
        out[dev] = [
            (stream.key, encode_batch([Segment(dev, i + 1, recs[i : i + batch])]))
            for i in range(0, len(recs), batch)
        ]
    return out


def verify_only(streams: list[DeviceStream], workers: int, batch: int) -> Run:
    """Parse (with the canonical check) and verify every record, in `workers` processes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    _WORK[:] = [
        (Ed25519PublicKey.from_public_bytes(s.key.public_raw), s.records[i : i + batch])
        for s in streams
        for i in range(0, len(s.records), batch)
    ]
    return _in_pool(workers, _verify_chunk)


def _verify_chunk(index: int) -> tuple[int, float]:
    began = time.process_time()
    verifier, records = _WORK[index]
    for rec in records:
        parse(rec.raw)
        verifier.verify(rec.signature, rec.raw)
    return len(records), time.process_time() - began


def insert_only(
    db_url: str, streams: list[DeviceStream], workers: int, batch: int
) -> Run:
    """Bulk-insert the rows ingest would store, unchecked, one transaction per batch."""
    _prepare(db_url, streams)
    _WORK[:] = [
        (db_url, [_row(rec) for rec in s.records[i : i + batch]])
        for s in streams
        for i in range(0, len(s.records), batch)
    ]
    return _in_pool(workers, _insert_chunk)


def _row(rec) -> tuple:
    head = parse(rec.raw, strict=False)
    fields = (rec.id, head.device, head.seq, head.type, rec.raw, rec.signature)
    return fields + (head.time, "stored", None, None)


def _insert_chunk(index: int) -> tuple[int, float]:
    began = time.process_time()
    db_url, rows = _WORK[index]
    engine = _engines.get(db_url) or _engines.setdefault(db_url, make_engine(db_url))
    with sessionmaker(engine.execution_options(writer=True)).begin() as session:
        insert_records(session, rows, f"bench{index}", utcnow())
    return len(rows), time.process_time() - began


_engines: dict = {}


def _in_pool(workers: int, task) -> Run:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        pool.map(_noop, range(workers))  # the processes exist before the clock starts
        began = time.perf_counter()
        done = pool.map(task, range(len(_WORK)), chunksize=1)
        seconds = time.perf_counter() - began
    _WORK.clear()
    return Run(sum(n for n, _ in done), seconds, sum(cpu for _, cpu in done))


def _noop(_index: int) -> None:
    return None


def end_to_end(
    db_url: str,
    streams: list[DeviceStream],
    workers: int,
    batch: int,
    workdir: Path,
) -> Run:
    """Records/s through a real `cocoa-hub serve` on `db_url`, every one accepted."""
    _prepare(db_url, streams)
    by_device = frames(streams, batch)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = env_with(
        COCOA_HUB_HOME=str(workdir / "hub"),
        COCOA_HUB_DATABASE_URL=db_url,
        COCOA_HUB_AUTO_MIGRATE="false",
        COCOA_HUB_LOG_LEVEL="WARNING",
        COCOA_HUB_LEDGER_INTERVAL="3600",
        COCOA_HUB_LEDGER_AFTER_INGEST="false",
    )
    cmd = [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)]
    log = workdir / f"hub-{port}.log"
    server = start([*cmd, "--workers", str(workers)], env, base + "/healthz", log)
    try:
        cpu_before = tree_cpu_seconds(server.pid)
        began = time.perf_counter()
        with ThreadPoolExecutor(len(by_device)) as pool:
            accepted = sum(
                pool.map(lambda items: _send(base, items), by_device.values())
            )
        seconds = time.perf_counter() - began
        cpu = tree_cpu_seconds(server.pid) - cpu_before
    finally:
        stop(server)

    expected = sum(len(s.records) for s in streams)
    if accepted != expected:
        raise RuntimeError(f"hub accepted {accepted} of {expected} records; see {log}")
    return Run(accepted, seconds, cpu)


def _send(base: str, items: list[tuple]) -> int:
    http = requests.Session()
    accepted = 0
    for key, frame in items:
        headers = {
            "Content-Type": MEDIA_TYPE,
            "Authorization": authorization(key, "POST", PATH, frame),
        }
        answer = http.post(base + PATH, data=frame, headers=headers, timeout=300)
        answer.raise_for_status()
        accepted += sum(r["status"] == "accepted" for r in answer.json()["results"])
    return accepted


def _prepare(db_url: str, streams: list[DeviceStream]) -> None:
    """Migrate the database and enroll the streams' devices in one cooperative."""
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        org = Organisation(slug="bench-coop", name="Bench Coop", kind="cooperative")
        session.add(org)
        session.flush()
        for n, stream in enumerate(streams):
            enrollment.register(
                session, stream.key.public_raw, org.id, "cooperative", "tablet", f"t{n}"
            )
    engine.dispose()

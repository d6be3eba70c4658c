"""Run every benchmark once and print one table: `python -m bench [--quick]`.

Progress goes to stderr, the table to stdout. Sized for a 2-core machine: the full
run takes about two minutes, `--quick` well under one. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import hub_ingest, wire_size
from bench.databases import fresh, postgres_url
from bench.season import season

TARGET_RATE = 10_000
TARGET_SHARE = 0.60
TARGET_BYTES = 160
DEVICES = 4


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    records = args.records or (8_000 if args.quick else 40_000)
    per_device = max(1, records // DEVICES)
    workdir = Path(tempfile.mkdtemp(prefix="cocoa-bench-"))
    began = time.monotonic()

    progress(f"signing {per_device * DEVICES} records on {DEVICES} devices")
    streams = season(DEVICES, per_device)
    lines = [f"# Cocoa Trace benchmarks ({args.workers} processes, {_cpu()})", ""]
    lines += _ingest(args, streams, workdir)
    lines += _wire(streams[0])
    if not args.no_edge:
        lines += _edge(workdir, 30 if args.quick else 200)

    lines.append(f"total run {time.monotonic() - began:.0f} s; logs in {workdir}")
    print("\n".join(lines))
    return 0


def _ingest(args, streams, workdir: Path) -> list[str]:
    progress(f"verify-only baseline, {args.workers} processes")
    verify = hub_ingest.verify_only(streams, args.workers, args.batch)
    rows = [("verify only (parse + Ed25519)", "-", verify, "")]
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    server = None if args.no_postgres else postgres_url()
    for kind in kinds:
        progress(f"{kind}: end to end over HTTP, {args.workers} hub workers")
        with fresh(kind, workdir, server) as url:
            e2e = hub_ingest.end_to_end(url, streams, args.workers, args.batch, workdir)
        progress(f"{kind}: insert-only baseline")
        with fresh(kind, workdir, server) as url:
            ins = hub_ingest.insert_only(url, streams, args.workers, args.batch)
        meets = e2e.rate >= TARGET_RATE and e2e.rate >= TARGET_SHARE * verify.rate
        rows.append(("hub ingest end to end", kind, e2e, "yes" if meets else "NO"))
        rows.append(("insert only (no checks)", kind, ins, ""))

    out = [
        f"## Hub ingest ({verify.records} records, batches of {args.batch})",
        "",
        (
            "| measure | database | records/s | seconds | vs verify-only "
            "| CPU µs/record | vs verify-only by CPU | target met |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, kind, run, meets in rows:
        out.append(
            f"| {name} | {kind} | {run.rate:,.0f} | {run.seconds:.2f} "
            f"| {run.rate / verify.rate:.0%} | {run.cpu_us:.0f} "
            f"| {verify.cpu_us / run.cpu_us:.0%} | {meets} |"
        )
    out += [
        "",
        (
            f"Target: end to end >= {TARGET_RATE:,} records/s and >= "
            f"{TARGET_SHARE:.0%} of verify-only in the same run. CPU µs/record "
            "counts the measured processes only (the hub's workers, or the "
            "baseline's pool), not the load client nor PostgreSQL; it holds on a "
            "busy machine where records/s does not."
        ),
        "",
    ]
    return out


def _wire(stream) -> list[str]:
    progress("bytes per record on the wire")
    sizes = wire_size.measure(stream.key.device_id, stream.records)
    out = [
        "## Bytes per record on the wire",
        "",
        "| batch | CTB1 raw | CTB1 zlib | naive JSON | naive JSON gzip | target met |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for s in sizes:
        meets = "yes" if s.ctb1_zlib <= TARGET_BYTES else "NO"
        meets = meets if s.batch >= 50 else "-"
        out.append(
            f"| {s.batch} | {s.ctb1_raw:.0f} | {s.ctb1_zlib:.0f} | {s.json_raw:.0f} "
            f"| {s.json_gzip:.0f} | {meets} |"
        )
    out += [
        "",
        f"Target: <= {TARGET_BYTES} bytes per record in batches of 50 or more.",
        "",
    ]
    return out


def _edge(workdir: Path, submits: int) -> list[str]:
    from bench import edge_latency

    progress(f"edge: {submits} form submits through cocoa-edge serve")
    figures = edge_latency.measure(workdir, submits)
    out = ["## Edge", "", "| measure | value |", "|---|---:|"]
    out += [f"| {name} | {_fmt(value)} |" for name, value in figures.items()]
    return out + [""]


def _fmt(value) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def _cpu() -> str:
    return f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start"


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--records", type=int, help="records to ingest (default 40000)")
    parser.add_argument(
        "--quick", action="store_true", help="8000 records, 30 edge submits"
    )
    parser.add_argument("--batch", type=int, default=1000, help="records per batch")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="hub workers and baseline processes (default: cores)",
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the PostgreSQL rows"
    )
    parser.add_argument("--no-edge", action="store_true", help="skip the edge figures")
    return parser


if __name__ == "__main__":
    sys.exit(main())

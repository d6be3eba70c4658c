"""Edge: form submit → durable signed row, through a real `cocoa-edge serve`.

Beside the edge figures it measures a bare sqlite3 commit loop (WAL,
synchronous=FULL, one ~500-byte row per BEGIN IMMEDIATE … COMMIT) in the same
directory: the fsync floor no edge submit can beat on this disk.

    .venv/bin/python -m bench.edge_latency [--submits 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bench.procs import BIN, env_with, free_port, rss_mb, run, start, stop

SAMPLE = Path(__file__).parents[1] / "edge" / "sample"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# About the size of a signed harvest record and its signature.
BASELINE_ROW = b"x" * 500


def measure(workdir: Path, submits: int) -> dict:
    env = env_with(COCOA_EDGE_HOME=str(workdir / "edge"))
    cli = str(BIN / "cocoa-edge")
    run([cli, "init", "--label", "bench tablet"], env)
    run([cli, "import-farmers", str(SAMPLE / "farmers.csv")], env)
    run([cli, "import-plots", str(SAMPLE / "plots.geojson")], env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(
        [cli, "serve", "--port", str(port)], env, base + "/", workdir / "edge.log"
    )
    try:
        time.sleep(3)
        idle_rss = rss_mb(proc.pid)
        cpu_before = cpu_s(proc.pid)
        latencies = _submit(base, submits)
        cpu_used = cpu_s(proc.pid) - cpu_before
        busy_rss = rss_mb(proc.pid)
    finally:
        stop(proc)

    return {
        "submits": submits,
        **_percentiles(latencies),
        "idle_rss_mb": idle_rss,
        "rss_after_mb": busy_rss,
        "server_cpu_ms_per_submit": cpu_used * 1000 / submits,
    }


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sqlite_baseline(workdir: Path, commits: int) -> dict:
    """p50/p99 of a bare durable sqlite3 commit: the disk's fsync cost, no Python app."""
    conn = sqlite3.connect(workdir / "baseline.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, raw BLOB)")
    latencies = []
    for seq in range(1, commits + 1):
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (seq, BASELINE_ROW))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - began)
    conn.close()
    return {"commits": commits, **_percentiles(latencies)}


def _percentiles(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def _submit(base: str, submits: int) -> list[float]:
    http = requests.Session()
    page = http.get(base + "/harvests/new", timeout=10).text
    token = TOKEN_RE.search(page).group(1)
    farmer, plot = _first_plot(page)
    out = []
    for n in range(submits):
        form = {
            "csrf_token": token,
            "farmer": farmer,
            "plot": plot,
            "kg": f"{10 + n % 90}.5",
            "harvested_on": "2026-11-02",
        }
        began = time.perf_counter()
        answer = http.post(
            base + "/harvests/new", data=form, timeout=10, allow_redirects=False
        )
        out.append(time.perf_counter() - began)
        if answer.status_code not in (302, 303):
            raise RuntimeError(
                f"harvest form answered {answer.status_code}: {answer.text[:300]}"
            )
    return out


def _first_plot(page: str) -> tuple[str, str]:
    farmers = re.findall(r'<option value="([^"]+)"', page)
    plot = next(v for v in farmers if v.count("-P") == 1)
    return plot.rsplit("-P", 1)[0], plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as tmp:
        workdir = Path(tmp)
        floor = sqlite_baseline(workdir, args.submits)
        edge = measure(workdir, args.submits)
        floor_after = sqlite_baseline(workdir / "edge", args.submits)

    print(
        f"sqlite3 bare commit (WAL, FULL), before: p50 {floor['p50_ms']:.2f} ms"
        f"  p99 {floor['p99_ms']:.2f} ms  ({floor['commits']} commits)"
    )
    print(
        f"edge form submit → durable row:    p50 {edge['p50_ms']:.2f} ms"
        f"  p99 {edge['p99_ms']:.2f} ms  ({edge['submits']} submits)"
    )
    print(
        f"edge server CPU per submit:        {edge['server_cpu_ms_per_submit']:.2f} ms"
        "  (wall time above includes waiting for a core on a busy machine)"
    )
    print(
        f"sqlite3 bare commit (WAL, FULL), after:  p50 {floor_after['p50_ms']:.2f} ms"
        f"  p99 {floor_after['p99_ms']:.2f} ms"
    )
    print(
        f"edge RSS: idle {edge['idle_rss_mb']:.1f} MB, "
        f"after the submits {edge['rss_after_mb']:.1f} MB"
    )


if __name__ == "__main__":
    main()

"""Edge: form submit → durable signed row, through a real `cocoa-edge serve`."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import requests

from bench.procs import BIN, env_with, free_port, rss_mb, run, start, stop

SAMPLE = Path(__file__).parents[1] / "edge" / "sample"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def measure(workdir: Path, submits: int) -> dict:
    env = env_with(COCOA_EDGE_HOME=str(workdir / "edge"))
    cli = str(BIN / "cocoa-edge")
    run([cli, "init", "--label", "bench tablet"], env)
    run([cli, "import-farmers", str(SAMPLE / "farmers.csv")], env)
    run([cli, "import-plots", str(SAMPLE / "plots.geojson")], env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start([cli, "serve", "--port", str(port)], env, base + "/", workdir / "edge.log")
    try:
        time.sleep(3)
        idle_rss = rss_mb(proc.pid)
        latencies = _submit(base, submits)
        busy_rss = rss_mb(proc.pid)
    finally:
        stop(proc)

    latencies.sort()
    return {
        "submits": submits,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "idle_rss_mb": idle_rss,
        "rss_after_mb": busy_rss,
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
        answer = http.post(base + "/harvests/new", data=form, timeout=10, allow_redirects=False)
        out.append(time.perf_counter() - began)
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"harvest form answered {answer.status_code}: {answer.text[:300]}")
    return out


def _first_plot(page: str) -> tuple[str, str]:
    farmers = re.findall(r'<option value="([^"]+)"', page)
    plot = next(v for v in farmers if v.count("-P") == 1)
    return plot.rsplit("-P", 1)[0], plot

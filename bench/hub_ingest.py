"""Hub ingest throughput: signed records per second, end to end over HTTP.

Starts `cocoa-hub serve --workers 2` on loopback with a throw-away SQLite home,
enrolls DEVICES tablets, pre-signs their records, then posts CTB1 batches from
CLIENTS threads and reports records/s against a verify-only baseline that uses
the same number of processes.

    .venv/bin/python bench/hub_ingest.py [--records 40000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import requests

from hub.device_auth import authorization
from shared.keys import DeviceKey
from shared.record import GENESIS, sign_record
from shared.wire import MEDIA_TYPE, Segment, encode_batch


def chain(seed: int, count: int):
    key = DeviceKey.from_seed(seed.to_bytes(32, "big"))
    records, prev = [], GENESIS
    for n in range(1, count + 1):
        body = {
            "id": f"H-{seed}-{n}",
            "farmer": "CI-SOU-0001",
            "plot": "CI-SOU-0001-P1",
            "mass_g": 1000 + n,
            "harvested_on": "2026-11-02",
        }
        rec = sign_record(key, "harvest", n, prev, body, "2026-11-02T08:00:00Z")
        records.append(rec)
        prev = rec.id
    return key, records


def _verify_chunk(args):
    public_raw, pairs = args
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    verifier = Ed25519PublicKey.from_public_bytes(public_raw)
    for raw, sig in pairs:
        verifier.verify(sig, raw)
    return len(pairs)


def baseline(chains, workers: int) -> float:
    jobs = [
        (key.public_raw, [(r.raw, r.signature) for r in recs]) for key, recs in chains
    ]
    with ProcessPoolExecutor(workers) as pool:
        start = time.perf_counter()
        total = sum(pool.map(_verify_chunk, jobs))
        return total / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=40000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--with-ledger",
        action="store_true",
        help="let the ledger commit job run during the ingest",
    )
    args = parser.parse_args()

    per_device = args.records // args.devices
    chains = [chain(100 + d, per_device) for d in range(args.devices)]
    verify_rate = baseline(chains, args.workers)

    home = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    port = free_port()
    env = dict(
        os.environ,
        COCOA_HUB_HOME=str(home),
        COCOA_HUB_LOG_LEVEL="WARNING",
        COCOA_HUB_LEDGER_INTERVAL="3600",
        COCOA_HUB_LEDGER_AFTER_INGEST="true" if args.with_ledger else "false",
    )
    cli = [sys.executable, "-m", "hub.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "create-org", "coop", "--name", "Coop", "--kind", "cooperative"],
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url)
        for key, _ in chains:
            token = subprocess.run(
                [*cli, "enroll-token", "--org", "coop", "--role", "cooperative"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            requests.post(
                f"{url}/api/v1/devices/enroll",
                json={
                    "token": token,
                    "public_key": base64.b64encode(key.public_raw).decode(),
                    "kind": "tablet",
                },
                timeout=10,
            ).raise_for_status()

        frames = [
            (
                key,
                encode_batch([Segment(key.device_id, i + 1, recs[i : i + args.batch])]),
            )
            for key, recs in chains
            for i in range(0, len(recs), args.batch)
        ]
        by_device = {}
        for key, frame in frames:
            by_device.setdefault(key.device_id, []).append((key, frame))

        def send(items):
            session = requests.Session()
            accepted = 0
            for key, frame in items:
                path = "/api/v1/sync/batches"
                headers = {
                    "Content-Type": MEDIA_TYPE,
                    "Authorization": authorization(key, "POST", path, frame),
                }
                answer = session.post(
                    url + path, data=frame, headers=headers, timeout=120
                )
                answer.raise_for_status()
                accepted += sum(
                    r["status"] == "accepted" for r in answer.json()["results"]
                )
            return accepted

        start = time.perf_counter()
        with ThreadPoolExecutor(args.devices) as pool:
            accepted = sum(pool.map(send, by_device.values()))
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(10)

    rate = accepted / elapsed
    print(f"records accepted      {accepted}")
    print(f"end to end            {rate:,.0f} records/s ({elapsed:.2f} s)")
    print(
        f"verify-only baseline  {verify_rate:,.0f} records/s ({args.workers} processes)"
    )
    print(f"ratio                 {rate / verify_rate:.0%}")


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            requests.get(url + "/healthz", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("hub did not start")


if __name__ == "__main__":
    main()

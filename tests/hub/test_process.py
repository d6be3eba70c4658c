"""The hub as a real process: CLI set-up, `cocoa-hub serve`, a signed sync over HTTP."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import pytest
import requests

from hub.device_auth import authorization
from shared.keys import verify
from shared.wire import MEDIA_TYPE
from tests.hub.helpers import Chain, coop_journey, frame
from tests.support.servers import free_port

CLI = [sys.executable, "-m", "hub.cli"]


def run(env, *args, stdin=None):
    return subprocess.run(
        [*CLI, *args], env=env, check=True, capture_output=True, text=True, input=stdin
    ).stdout.strip()


@pytest.fixture
def hub(tmp_path):
    env = dict(
        os.environ, COCOA_HUB_HOME=str(tmp_path), COCOA_HUB_LEDGER_INTERVAL="0.5"
    )
    run(env, "db", "upgrade")
    run(
        env,
        "create-org",
        "coop-soubre",
        "--name",
        "Coop Soubré",
        "--kind",
        "cooperative",
    )
    port = free_port()
    log = (tmp_path / "hub.log").open("w")
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield env, url
    proc.terminate()
    proc.wait(10)
    log.close()


def wait_for_ledger(env, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = run(env, "ledger", "verify")
        if '"blocks": 0' not in answer:
            return answer
        time.sleep(0.3)
    return answer


def test_tablet_syncs_to_a_served_hub_and_the_ledger_catches_up(hub):
    env, url = hub
    token = run(env, "enroll-token", "--org", "coop-soubre", "--role", "cooperative")
    chain = Chain.seeded(1)
    enrolled = requests.post(
        f"{url}/api/v1/devices/enroll",
        timeout=10,
        json={
            "token": token,
            "public_key": base64.b64encode(chain.key.public_raw).decode(),
            "kind": "tablet",
        },
    ).json()
    coop_journey(chain)
    body = frame(chain.segment())
    path = "/api/v1/sync/batches"

    answer = requests.post(
        url + path,
        data=body,
        timeout=30,
        headers={
            "Content-Type": MEDIA_TYPE,
            "Authorization": authorization(chain.key, "POST", path, body),
        },
    )
    ledger = wait_for_ledger(env)

    assert answer.status_code == 200
    assert answer.json()["high_water"][chain.device]["seq"] == 7
    receipt = answer.json()["receipt"]
    assert verify(
        base64.b64decode(enrolled["hub_key"]),
        base64.b64decode(receipt["signature"]),
        base64.b64decode(receipt["payload"]),
    )
    assert '"blocks": 1' in ledger

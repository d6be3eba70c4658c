"""Sync under faults: a tampering gateway, a hub killed mid-sync, a lost answer."""

from __future__ import annotations

import itertools
import json
import re
import subprocess

import pytest

from tests.e2e.harness import EDGE_CLI, Edge, Hub
from tests.e2e.proxy import DroppingProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def stored(hub: Hub, device: str) -> list[tuple]:
    """The hub's records of one device: seq, id, raw, signature, status."""
    rows = hub.query(
        "SELECT seq, id, raw, signature, status, batch_id FROM records "
        "WHERE device_id = :device ORDER BY seq",
        device=device,
    )
    return [(r.seq, r.id, bytes(r.raw), bytes(r.signature), r.status) for r in rows]


def own_records(edge: Edge) -> list[tuple]:
    return [(seq, rid, raw, sig) for seq, rid, raw, sig, _state in edge.journal()]


def chain_breaks(records: list[tuple]) -> list[int]:
    """Seqs whose `prev` is not the id of the record before (first is genesis)."""
    breaks = []
    for before, record in itertools.pairwise(records):
        if json.loads(record[2])["prev"] != before[1]:
            breaks.append(record[0])
    return breaks


def test_a_gateway_that_edits_a_relayed_record_gets_it_rejected(
    pg_hub, tablet_of, processes
):
    hub = pg_hub.start(processes)
    gateway = tablet_of("gateway")
    gateway.enroll(hub.url, hub.enroll_token(), kind="gateway")
    gateway.serve(processes)
    tablet = tablet_of("tablet")
    tablet.enroll(gateway.url, hub.enroll_token())
    assert gateway.sync().returncode == 0
    tablet.append_farmers(2)
    assert tablet.sync().returncode == 0 and gateway.sync().returncode == 0
    device = tablet.device_id()
    before = stored(hub, device)
    tablet.append_farmers(3, start=3)
    gateway.cli("record", "farmer", "--json", '{"id": "GW-1", "name": "Gateway Ama"}')
    assert tablet.sync().returncode == 0
    conn = gateway.db()
    with conn:
        (raw,) = conn.execute(
            "SELECT raw FROM relay WHERE device = ? AND seq = 5", (device,)
        ).fetchone()
        at = raw.index(b'"name":"') + len(b'"name":"')
        edited = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]
        conn.execute(
            "UPDATE relay SET raw = ? WHERE device = ? AND seq = 5", (edited, device)
        )
    conn.close()

    forwarded = gateway.sync()
    told = tablet.sync()

    after = stored(hub, device)
    rejections = hub.query(
        "SELECT device_id, seq, code, raw FROM rejections WHERE device_id = :device",
        device=device,
    )
    gateway_own = stored(hub, gateway.device_id())
    relay_state = gateway.rows(
        "SELECT state, state_code FROM relay WHERE device = ? AND seq = 5", device
    )
    assert forwarded.returncode == 0, forwarded.stdout + forwarded.stderr
    assert "1 rejected" in forwarded.stdout
    assert [(r.seq, r.code, bytes(r.raw)) for r in rejections] == [
        (5, "bad-signature", edited)
    ]
    assert after[:2] == before  # nothing already accepted changed
    assert after == [(*row, "stored") for row in own_records(tablet)[:4]]
    assert [row[4] for row in gateway_own] == ["stored"]
    assert relay_state == [("rejected", "bad-signature")]
    # The tablet learns the hub's verdict at its next sync with the gateway.
    assert told.returncode == 0, told.stdout + told.stderr
    assert "0 records sent" in told.stdout
    assert tablet.rows("SELECT seq, state, state_code FROM journal ORDER BY seq") == [
        (1, "acknowledged", None),
        (2, "acknowledged", None),
        (3, "acknowledged", None),
        (4, "acknowledged", None),
        (5, "rejected", "bad-signature"),
    ]
    # The hub's receipt signs the rejection of other bytes than the tablet's.
    ((detail,),) = tablet.rows("SELECT state_detail FROM journal WHERE seq = 5")
    assert "the relay altered it" in detail
    status = tablet.cli("status").stdout
    assert re.search(r"acknowledged\s+4\b", status), status
    assert re.search(r"rejected\s+1\b", status), status


def test_a_hub_killed_mid_sync_loses_and_doubles_nothing(pg_hub, tablet_of, processes):
    hub = pg_hub.start(processes)
    tablet = tablet_of("tablet", COCOA_EDGE_BATCH_RECORDS="50")
    tablet.enroll(hub.url, hub.enroll_token())
    tablet.append_farmers(2000)
    device = tablet.device_id()

    with subprocess.Popen(
        [*EDGE_CLI, "sync"],
        env=tablet.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as first:
        for line in first.stdout:
            # "records: <done>/<total>" follows each batch the hub answered.
            done = line.removeprefix("records: ").split("/")[0]
            if line.startswith("records: ") and int(done) >= 600:
                hub.kill()
                break
        first_out = first.stdout.read()
        first.wait(60)
    at_kill = len(stored(hub, device))
    hub.start(processes)
    second = tablet.sync()
    hub.out("ledger", "commit")
    verified = hub.cli("ledger", "verify", check=False)

    records = stored(hub, device)
    assert first.returncode == 2, first_out
    assert "sync interrupted" in first_out
    assert 600 <= at_kill < 2000
    assert second.returncode == 0, second.stdout + second.stderr
    assert [r[:4] for r in records] == own_records(tablet)
    assert [r[0] for r in records] == list(range(1, 2001))
    assert chain_breaks(records) == []
    assert {state for *_, state in tablet.journal()} == {"acknowledged"}
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_lost_answer_makes_the_next_sync_a_harmless_resend(
    pg_hub, tablet_of, processes
):
    hub = pg_hub.start(processes)
    tablet = tablet_of("tablet", COCOA_EDGE_BATCH_RECORDS="50")
    tablet.enroll(hub.url, hub.enroll_token())
    tablet.append_farmers(120)
    device = tablet.device_id()

    with DroppingProxy(hub.port) as proxy:
        first = tablet.sync(proxy.url)
        states_between = {state for *_, state in tablet.journal()}
        second = tablet.sync(proxy.url)

    batches = hub.query(
        "SELECT records, accepted, duplicates FROM sync_batches "
        "WHERE sender_device = :device ORDER BY received_at",
        device=device,
    )
    assert proxy.dropped.is_set()
    assert first.returncode == 2 and "sync interrupted" in first.stdout, first.stdout
    assert states_between == {"sent", "pending"}
    assert second.returncode == 0, second.stdout + second.stderr
    assert [tuple(b) for b in batches] == [
        (50, 50, 0),  # the answer was lost, the records stored
        (50, 0, 50),  # resent: duplicates
        (50, 50, 0),
        (20, 20, 0),
    ]
    assert [r[:4] for r in stored(hub, device)] == own_records(tablet)
    assert {state for *_, state in tablet.journal()} == {"acknowledged"}

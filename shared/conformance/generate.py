"""Write the conformance vectors: `python -m shared.conformance.generate [dir]`.

Every expected status and code below is written by hand from the rules in
chaincode/README.md; nothing is computed by running the engines under test.
Keys are fixed (derived from the device name), so the files are reproducible.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shared.keys import DeviceKey
from shared.record import GENESIS, SignedRecord, sign_record

COOP, MAKER = "coop-soubre", "maker-abidjan"
MSP = {COOP: "CoopMSP", MAKER: "MakerMSP"}
ROLE = {COOP: "cooperative", MAKER: "manufacturer"}
OK = ("applied", "")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def refused(code: str) -> tuple[str, str]:
    return ("refused", code)


REPLAY = ("already-recorded", "already-recorded")


@dataclass
class Device:
    """A test device with a fixed key and its own chain head."""

    name: str
    org: str
    key: DeviceKey
    seq: int = 0
    last: str = GENESIS
    clock: int = 0

    def sign(self, rtype: str, body: dict, *, seq=None, prev=None) -> SignedRecord:
        """Sign the next record (or one at a chosen seq/prev, leaving the head)."""
        self.clock += 1
        time = f"2025-03-01T08:{self.clock // 60:02d}:{self.clock % 60:02d}Z"
        chained = seq is None and prev is None
        seq = self.seq + 1 if seq is None else seq
        prev = self.last if prev is None else prev
        rec = sign_record(self.key, rtype, seq, prev, body, time=time)
        if chained:
            self.seq, self.last = seq, rec.id

        return rec


@dataclass
class Scenario:
    """Builds the steps of one vector file."""

    name: str
    description: str
    devices: dict[str, Device] = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    expect_state: dict[str, dict] = field(default_factory=dict)
    clock: int = 0

    def _tx(self) -> dict:
        self.clock += 1
        digest = hashlib.sha256(f"{self.name}/{self.clock}".encode()).hexdigest()
        day, hour = divmod(self.clock, 24)
        return {"tx_id": digest, "tx_time": f"2025-04-{day + 1:02d}T{hour:02d}:00:00Z"}

    def _step(self, op: str, org: str, admin: bool, args: dict, code: str) -> None:
        caller = {"org": org, "msp": MSP.get(org, "OtherMSP"), "admin": admin}
        self.steps.append(
            {
                "op": op,
                "caller": caller,
                **self._tx(),
                "args": args,
                "expect": {"code": code},
            }
        )

    def device(self, name: str, org: str) -> Device:
        seed = hashlib.sha256(f"cocoa-trace conformance {name}".encode()).digest()
        dev = Device(name, org, DeviceKey.from_seed(seed))
        self.devices[name] = dev
        return dev

    def register_org(self, org: str, *, admin=True, code="") -> None:
        self._step("register_org", org, admin, {"slug": org}, code)

    def set_salt(self, org: str, *, admin=True, code="", salt=None) -> None:
        salt = salt or hashlib.sha256(f"salt {org}".encode()).digest()
        self._step("set_salt", org, admin, {"salt": b64(salt)}, code)

    def register_device(self, dev: Device, *, by=None, admin=True, code="", **over):
        args = {
            "device_id": dev.key.device_id,
            "public_key": b64(dev.key.public_raw),
            "org": dev.org,
            "role": ROLE[dev.org],
        } | over
        self._step("register_device", by or dev.org, admin, args, code)

    def revoke_device(self, dev: Device, *, by=None, admin=True, code="") -> None:
        args = {"device_id": dev.key.device_id}
        self._step("revoke_device", by or dev.org, admin, args, code)

    def submit(self, org: str, *pairs: tuple[SignedRecord, tuple[str, str]], sig=None):
        """One transaction: events and, for each, the expected (status, code)."""
        events = [{"raw": b64(rec.raw), "sig": b64(rec.signature)} for rec, _ in pairs]
        expect = [{"status": s, "code": c} for _, (s, c) in pairs]
        caller = {"org": org, "msp": MSP.get(org, "OtherMSP"), "admin": False}
        self.steps.append(
            {
                "op": "submit",
                "caller": caller,
                **self._tx(),
                "events": events,
                "expect": expect,
            }
        )

    def setup(self) -> tuple[Device, Device]:
        """Both organisations, their salts and one device each."""
        coop, maker = (
            self.device("coop-tablet", COOP),
            self.device("maker-terminal", MAKER),
        )
        for org in (COOP, MAKER):
            self.register_org(org)
            self.set_salt(org)

        self.register_device(coop)
        self.register_device(maker)
        return coop, maker

    def to_json(self) -> dict:
        devices = [
            {
                "name": d.name,
                "seed": hashlib.sha256(
                    f"cocoa-trace conformance {d.name}".encode()
                ).hexdigest(),
                "id": d.key.device_id,
                "public_key": b64(d.key.public_raw),
                "org": d.org,
            }
            for d in self.devices.values()
        ]
        return {
            "name": self.name,
            "description": self.description,
            "orgs": [{"slug": s, "msp": m} for s, m in MSP.items()],
            "devices": devices,
            "steps": self.steps,
            "expect_state": self.expect_state,
        }


# -- bodies --------------------------------------------------------------------


def farmer(code="CI-SOU-0001"):
    return {
        "id": code,
        "name": "Awa Kouassi",
        "village": "Gnamangui",
        "phone": "+225 0701020304",
    }


def plot(code="CI-SOU-0001-P1", farmer_code="CI-SOU-0001"):
    geometry = {"type": "Point", "coordinates": [-6.6129, 5.7842]}
    return {
        "id": code,
        "farmer": farmer_code,
        "geometry": geometry,
        "gps_accuracy_m": 4.5,
    }


def harvest(hid, mass, farmer_code="CI-SOU-0001", plot_code="CI-SOU-0001-P1"):
    return {
        "id": hid,
        "farmer": farmer_code,
        "plot": plot_code,
        "mass_g": mass,
        "harvested_on": "2025-02-20",
    }


def purchase(pid, mass, harvest_id=None, farmer_code="CI-SOU-0001"):
    body = {
        "id": pid,
        "farmer": farmer_code,
        "plot": "CI-SOU-0001-P1",
        "mass_g": mass,
        "grade": "grade-1",
        "price": 1800 * mass // 1000,
        "currency": "XOF",
    }
    if harvest_id:
        body["harvest"] = harvest_id

    return body


def lot(lid, *inputs):
    return {
        "id": lid,
        "inputs": [{"purchase": p, "mass_g": m} for p, m in inputs],
        "bags": 5,
    }


def dispatch(sid, lots, to_org=MAKER):
    return {
        "id": sid,
        "lots": list(lots),
        "to_org": to_org,
        "carrier": "Transports Bakayoko",
    }


def receipt(sid, *lots):
    return {"shipment": sid, "lots": [{"lot": l, "mass_g": m} for l, m in lots]}


def processing(bid, units, *inputs):
    return {
        "id": bid,
        "product": "Dark chocolate 70% 100 g",
        "units": units,
        "inputs": [{"lot": l, "mass_g": m} for l, m in inputs],
    }


def transfer(asset, to_org=MAKER):
    return {"asset": asset, "to_org": to_org}


def sale(sid, batch, units):
    return {
        "id": sid,
        "batch": batch,
        "units": units,
        "buyer": "Supermarché du Plateau",
    }


def farm_and_purchase(s: Scenario, coop: Device, mass=400_000) -> None:
    """Farmer, plot, harvest and a purchase of `mass` grams from it."""
    s.submit(
        COOP,
        (coop.sign("farmer", farmer()), OK),
        (coop.sign("plot", plot()), OK),
        (coop.sign("harvest", harvest("H-1", 500_000)), OK),
        (coop.sign("purchase", purchase("PU-1", mass, "H-1")), OK),
    )


def shipped_lot(s: Scenario, coop: Device, maker: Device, *, receive=True) -> None:
    """PU-1 → LOT-1 (300 kg) dispatched as SH-1 to the maker, received if asked."""
    farm_and_purchase(s, coop)
    s.submit(
        COOP,
        (coop.sign("lot", lot("LOT-1", ("PU-1", 300_000))), OK),
        (coop.sign("dispatch", dispatch("SH-1", ["LOT-1"])), OK),
    )
    if receive:
        s.submit(
            MAKER, (maker.sign("receipt", receipt("SH-1", ("LOT-1", 295_000))), OK)
        )


# -- scenarios -----------------------------------------------------------------


def happy_journey() -> Scenario:
    s = Scenario("happy-journey", "Farm to shelf across two organisations; all apply.")
    coop, maker = s.setup()
    farm_and_purchase(s, coop)
    s.submit(
        COOP,
        (
            coop.sign(
                "drying",
                {
                    "id": "DRY-1",
                    "stage": "drying",
                    "purchases": ["PU-1"],
                    "started_on": "2025-02-22",
                    "moisture_pct": 7.5,
                },
            ),
            OK,
        ),
        (coop.sign("lot", lot("LOT-1", ("PU-1", 300_000))), OK),
        (coop.sign("dispatch", dispatch("SH-1", ["LOT-1"])), OK),
    )
    s.submit(MAKER, (maker.sign("receipt", receipt("SH-1", ("LOT-1", 295_000))), OK))
    s.submit(COOP, (coop.sign("transfer", transfer("LOT-1")), OK))
    s.submit(
        MAKER,
        (maker.sign("processing", processing("BATCH-1", 1000, ("LOT-1", 200_000))), OK),
        (maker.sign("sale", sale("SALE-1", "BATCH-1", 600)), OK),
        (maker.sign("sale", sale("SALE-2", "BATCH-1", 400)), OK),
    )
    s.submit(MAKER, (maker.sign("transfer", transfer("BATCH-1", COOP)), OK))
    s.expect_state = {
        "harvest/H-1": {"mass_g": 500_000, "purchased_g": 400_000},
        "purchase/PU-1": {"owner": COOP, "mass_g": 400_000, "remaining_g": 100_000},
        "lot/LOT-1": {
            "owner": MAKER,
            "holder": MAKER,
            "status": "held",
            "mass_g": 300_000,
            "remaining_g": 95_000,
            "lost_g": 5_000,
            "shipment": "SH-1",
        },
        "shipment/SH-1": {"from_org": COOP, "to_org": MAKER, "status": "received"},
        "batch/BATCH-1": {"owner": COOP, "units": 1000, "sold_units": 1000},
        "sale/SALE-2": {"org": MAKER, "batch": "BATCH-1", "units": 400},
        f"device/{coop.key.device_id}": {
            "seq": coop.seq,
            "last": coop.last,
            "status": "active",
        },
        f"device/{maker.key.device_id}": {"seq": maker.seq, "last": maker.last},
    }
    return s


def mass_balance() -> Scenario:
    s = Scenario(
        "mass-balance",
        "Grams taken from purchases, harvests and lots never exceed what is left.",
    )
    coop, maker = s.setup()
    farm_and_purchase(s, coop, mass=100_000)
    s.submit(
        COOP,
        (coop.sign("lot", lot("LOT-1", ("PU-1", 60_000))), OK),
        (coop.sign("lot", lot("LOT-2", ("PU-1", 50_000))), refused("mass-exceeded")),
        # Naming the purchase twice cannot dodge the balance: 30 + 20 > 40 left.
        (
            coop.sign("lot", lot("LOT-3", ("PU-1", 30_000), ("PU-1", 20_000))),
            refused("mass-exceeded"),
        ),
        (coop.sign("lot", lot("LOT-4", ("PU-1", 40_000))), OK),
        (coop.sign("lot", lot("LOT-5", ("PU-1", 1))), refused("mass-exceeded")),
        # 100 kg of the 500 kg harvest are bought; 400 kg more is too much by 1 g.
        (
            coop.sign("purchase", purchase("PU-2", 400_001, "H-1")),
            refused("mass-exceeded"),
        ),
        (coop.sign("purchase", purchase("PU-3", 400_000, "H-1")), OK),
        (coop.sign("dispatch", dispatch("SH-1", ["LOT-1"])), OK),
    )
    s.submit(
        MAKER,
        (
            maker.sign("receipt", receipt("SH-1", ("LOT-1", 60_001))),
            refused("mass-exceeded"),
        ),
        (maker.sign("receipt", receipt("SH-1", ("LOT-1", 60_000))), OK),
    )
    s.submit(COOP, (coop.sign("transfer", transfer("LOT-1")), OK))
    s.submit(
        MAKER,
        (
            maker.sign("processing", processing("BATCH-1", 10, ("LOT-1", 60_001))),
            refused("mass-exceeded"),
        ),
        (maker.sign("processing", processing("BATCH-2", 10, ("LOT-1", 60_000))), OK),
    )
    s.expect_state = {
        "purchase/PU-1": {"remaining_g": 0},
        "harvest/H-1": {"purchased_g": 500_000},
        "lot/LOT-1": {"remaining_g": 0, "lost_g": 0},
        "lot/LOT-4": {"remaining_g": 40_000},
    }
    return s


def forged_signature() -> Scenario:
    s = Scenario(
        "forged-signature",
        "Bad signatures, foreign keys, bad bytes: refused, chain untouched.",
    )
    coop, _ = s.setup()
    stranger = s.device("stranger", COOP)  # never registered
    good = coop.sign("farmer", farmer())
    forged_sig = bytes([good.signature[0] ^ 1]) + good.signature[1:]
    # Altered payload: same signature, one byte of the body changed.
    altered = SignedRecord(good.raw.replace(b"Awa", b"Ama"), good.signature)
    # A stranger's key signs a record that names the tablet.
    impostor = stranger.key.sign(good.raw)
    # Valid signature over non-canonical bytes (a space after the first brace).
    loose = good.raw.replace(b"{", b"{ ", 1)
    # Canonical bytes whose version is JSON true, which Python reads as 1.
    truthy = good.raw.replace(b'"v":1', b'"v":true')
    s.submit(
        COOP,
        (SignedRecord(good.raw, forged_sig), refused("bad-signature")),
        (altered, refused("bad-signature")),
        (SignedRecord(good.raw, impostor), refused("bad-signature")),
        (SignedRecord(loose, coop.key.sign(loose)), refused("malformed-record")),
        (SignedRecord(truthy, coop.key.sign(truthy)), refused("malformed-record")),
        (stranger.sign("farmer", farmer("CI-SOU-0002")), refused("device-unknown")),
        (good, OK),
    )
    s.expect_state = {f"device/{coop.key.device_id}": {"seq": 1, "last": good.id}}
    return s


def revoked_device() -> Scenario:
    s = Scenario(
        "revoked-device",
        "Registration and revocation need the org's admin; revoked devices are refused.",
    )
    coop, maker = s.setup()
    spare = s.device("coop-spare", COOP)
    s.register_device(spare, admin=False, code="not-admin")
    s.register_device(spare, by=MAKER, code="not-admin")
    s.register_device(spare, device_id=maker.key.device_id, code="schema-invalid")
    s.register_device(spare, role="farmer", code="schema-invalid")
    s.register_device(
        spare, org="coop-unknown", by="coop-unknown", code="unknown-asset"
    )
    s.register_device(spare)
    s.register_device(spare, code="asset-exists")
    s.submit(COOP, (spare.sign("farmer", farmer()), OK))
    s.revoke_device(spare, by=MAKER, code="not-admin")
    s.revoke_device(spare, admin=False, code="not-admin")
    s.revoke_device(spare)
    s.revoke_device(spare, code="device-revoked")
    s.revoke_device(s.device("never-registered", COOP), code="device-unknown")
    s.submit(COOP, (spare.sign("plot", plot()), refused("device-revoked")))
    s.submit(COOP, (coop.sign("plot", plot()), OK))
    s.register_org(COOP, code="asset-exists")
    s.register_org("coop-daloa", admin=False, code="not-admin")
    s.set_salt(COOP, code="asset-exists")
    s.set_salt(MAKER, admin=False, code="not-admin")
    s.expect_state = {f"device/{spare.key.device_id}": {"status": "revoked", "seq": 1}}
    return s


def replayed_event() -> Scenario:
    s = Scenario(
        "replayed-event",
        "A record already on the ledger, applied or refused, is not applied again.",
    )
    coop, _ = s.setup()
    first = coop.sign("farmer", farmer())
    again = coop.sign("farmer", farmer())  # same farmer code, a new record
    s.submit(COOP, (first, OK), (first, REPLAY), (again, refused("asset-exists")))
    s.submit(COOP, (first, REPLAY), (again, REPLAY), (coop.sign("plot", plot()), OK))
    s.expect_state = {f"device/{coop.key.device_id}": {"seq": 3}}
    return s


def chain_gap() -> Scenario:
    s = Scenario("chain-gap", "Records come in seq order, each naming the one before.")
    coop, _ = s.setup()
    one = coop.sign("farmer", farmer())
    two = coop.sign("plot", plot())
    three = coop.sign("farmer", farmer("CI-SOU-0002"))
    fork = coop.sign("farmer", farmer("CI-SOU-0009"), seq=1, prev=GENESIS)
    bad_prev = coop.sign("farmer", farmer("CI-SOU-0003"), seq=2, prev=three.id)
    s.submit(COOP, (one, OK), (three, refused("chain-gap")))
    s.submit(
        COOP,
        (fork, refused("chain-broken")),
        (bad_prev, refused("chain-broken")),
        (two, OK),
        (three, OK),
    )
    s.expect_state = {f"device/{coop.key.device_id}": {"seq": 3, "last": three.id}}
    return s


def out_of_order() -> Scenario:
    s = Scenario("out-of-order", "Journey steps in the wrong state of their asset.")
    coop, maker = s.setup()
    shipped_lot(s, coop, maker, receive=False)
    s.submit(
        COOP,
        (coop.sign("dispatch", dispatch("SH-2", ["LOT-1"])), refused("out-of-order")),
        (coop.sign("receipt", receipt("SH-1", ("LOT-1", 1))), refused("not-recipient")),
    )
    s.submit(
        MAKER,
        (
            maker.sign("receipt", receipt("SH-9", ("LOT-1", 1))),
            refused("unknown-asset"),
        ),
        (
            maker.sign("receipt", receipt("SH-1", ("LOT-9", 1))),
            refused("unknown-asset"),
        ),
        (
            maker.sign("receipt", receipt("SH-1", ("LOT-1", 9), ("LOT-1", 9))),
            refused("schema-invalid"),
        ),
        (
            maker.sign("dispatch", dispatch("SH-3", ["LOT-1"], COOP)),
            refused("not-holder"),
        ),
        (maker.sign("receipt", receipt("SH-1", ("LOT-1", 300_000))), OK),
        (
            maker.sign("receipt", receipt("SH-1", ("LOT-1", 300_000))),
            refused("out-of-order"),
        ),
        (
            maker.sign("dispatch", dispatch("SH-4", ["LOT-1"], "nobody")),
            refused("unknown-asset"),
        ),
    )
    s.expect_state = {"lot/LOT-1": {"holder": MAKER, "owner": COOP, "status": "held"}}
    return s


def sale_twice() -> Scenario:
    s = Scenario("sale-twice", "A unit is sold once; only the owner sells.")
    coop, maker = s.setup()
    shipped_lot(s, coop, maker)
    s.submit(COOP, (coop.sign("transfer", transfer("LOT-1")), OK))
    s.submit(
        MAKER,
        (maker.sign("processing", processing("BATCH-1", 100, ("LOT-1", 100_000))), OK),
        (maker.sign("sale", sale("SALE-1", "BATCH-1", 100)), OK),
        (maker.sign("sale", sale("SALE-2", "BATCH-1", 1)), refused("already-sold")),
        (maker.sign("sale", sale("SALE-1", "BATCH-1", 1)), refused("asset-exists")),
        (maker.sign("sale", sale("SALE-3", "BATCH-9", 1)), refused("unknown-asset")),
    )
    s.submit(
        COOP, (coop.sign("sale", sale("SALE-4", "BATCH-1", 1)), refused("not-owner"))
    )
    s.expect_state = {"batch/BATCH-1": {"sold_units": 100, "units": 100}}
    return s


def processing_not_held() -> Scenario:
    s = Scenario(
        "processing-not-held", "A processor uses only lots its org owns and holds."
    )
    coop, maker = s.setup()
    shipped_lot(s, coop, maker, receive=False)
    s.submit(COOP, (coop.sign("transfer", transfer("LOT-1")), OK))
    # Owned by the maker now, but still in transit.
    s.submit(
        MAKER,
        (
            maker.sign("processing", processing("BATCH-1", 10, ("LOT-1", 1_000))),
            refused("not-holder"),
        ),
        (maker.sign("receipt", receipt("SH-1", ("LOT-1", 300_000))), OK),
        (maker.sign("processing", processing("BATCH-2", 10, ("LOT-1", 1_000))), OK),
    )
    # The cooperative's second lot was never sent nor sold: not the maker's.
    s.submit(COOP, (coop.sign("lot", lot("LOT-2", ("PU-1", 100_000))), OK))
    s.submit(
        MAKER,
        (
            maker.sign("processing", processing("BATCH-3", 10, ("LOT-2", 1_000))),
            refused("not-owner"),
        ),
        (maker.sign("transfer", transfer("LOT-2", MAKER)), refused("not-owner")),
    )
    s.expect_state = {
        "lot/LOT-1": {"remaining_g": 299_000},
        "lot/LOT-2": {"owner": COOP},
    }
    return s


def submitter_and_schema() -> Scenario:
    s = Scenario(
        "submitter-and-schema", "Wrong submitter, missing salt, schema failures."
    )
    coop, maker = s.device("coop-tablet", COOP), s.device("maker-terminal", MAKER)
    s.register_org(COOP)
    s.register_org(MAKER)
    s.register_device(coop)
    s.register_device(maker)
    first = coop.sign("farmer", farmer())
    s.submit(MAKER, (first, refused("wrong-org")))
    s.submit(COOP, (first, refused("salt-missing")))
    s.set_salt(COOP, salt=b"short", code="schema-invalid")
    s.set_salt(COOP)
    s.submit(
        COOP,
        (first, OK),
        # Signed and chained but the body lacks the farmer: refused, chain advances.
        (
            coop.sign(
                "plot",
                {
                    "id": "CI-SOU-0001-P1",
                    "geometry": {"type": "Point", "coordinates": [1, 2]},
                    "gps_accuracy_m": 3,
                },
            ),
            refused("schema-invalid"),
        ),
        (
            coop.sign("plot", plot("CI-SOU-0001-P1", "CI-SOU-0404")),
            refused("unknown-asset"),
        ),
        (coop.sign("plot", plot()), OK),
        (
            coop.sign("harvest", harvest("H-1", 10, plot_code="CI-SOU-0404-P9")),
            refused("unknown-asset"),
        ),
        (
            coop.sign("harvest", {**harvest("H-1", 10), "mass_g": 0}),
            refused("schema-invalid"),
        ),
        (coop.sign("harvest", harvest("H-1", 10)), OK),
    )
    s.expect_state = {f"device/{coop.key.device_id}": {"seq": 7}}
    return s


def corrections() -> Scenario:
    s = Scenario(
        "corrections",
        "A farmer, plot, harvest or drying record may correct the one that created it.",
    )
    coop, _ = s.setup()
    s.submit(
        COOP,
        (coop.sign("farmer", farmer()), OK),
        (coop.sign("plot", plot()), OK),
    )
    made = coop.sign("harvest", harvest("H-1", 10_000))
    s.submit(COOP, (made, OK))
    duplicate = coop.sign("harvest", harvest("H-1", 11_000))
    fixed = coop.sign("harvest", {**harvest("H-1", 12_000), "corrects": made.id})
    s.submit(
        COOP,
        (duplicate, refused("asset-exists")),
        (fixed, OK),
        (
            coop.sign("harvest", {**harvest("H-1", 9_000), "corrects": made.id}),
            refused("asset-exists"),
        ),
    )
    s.expect_state = {"harvest/H-1": {"mass_g": 12_000, "record": fixed.id}}
    return s


def schema_edges() -> Scenario:
    s = Scenario(
        "schema-edges",
        "Schema boundaries and canonical-JSON corner cases both engines must agree on.",
    )
    coop, _ = s.setup()
    choc = "\U0001f36b"
    poly = [[[-6.61, 5.78], [-6.60, 5.78], [-6.60, 5.79], [-6.61, 5.78]]]

    def plot_with(code, geometry, **extra):
        return {**plot(code, "CI-SOU-0002"), "geometry": geometry, **extra}

    s.submit(
        COOP,
        (coop.sign("farmer", farmer()), OK),
        (coop.sign("plot", plot()), OK),
        (
            coop.sign("farmer", {**farmer("CI-X"), "email": "a@b.c"}),
            refused("schema-invalid"),
        ),
        (coop.sign("farmer", {**farmer("CI-SOU-0002"), "name": "\u00e9" * 120}), OK),
        (coop.sign("farmer", {**farmer("CI-SOU-0003"), "name": choc * 120}), OK),
        (
            coop.sign("farmer", {**farmer("CI-SOU-0004"), "name": choc * 121}),
            refused("schema-invalid"),
        ),
        # Strings JCS escapes or keeps: controls, separators, quotes, non-BMP.
        (
            coop.sign(
                "farmer",
                {
                    **farmer("CI-SOU-0005"),
                    "name": 'a\u0001b\u001fc\u007fd\u2028e\\f"g\u00e9' + choc,
                },
            ),
            OK,
        ),
        (
            coop.sign("farmer", {**farmer("CI-SOU-0006"), "phone": "+225 07"}),
            refused("schema-invalid"),
        ),
        (coop.sign("farmer", farmer("A" * 64)), OK),
        (coop.sign("farmer", farmer("A" * 65)), refused("schema-invalid")),
        (coop.sign("farmer", farmer("CI/SOU:7.b")), OK),
    )
    s.submit(
        COOP,
        # Numbers JCS writes in ES6 form: tiny, huge, many digits, negative.
        (
            coop.sign(
                "plot",
                plot_with(
                    "CI-SOU-0002-P1",
                    {"type": "Point", "coordinates": [-6.612345678901234, 5.000001]},
                    gps_accuracy_m=0,
                ),
            ),
            OK,
        ),
        (
            coop.sign(
                "plot",
                plot_with(
                    "CI-SOU-0002-P2",
                    {"type": "Point", "coordinates": [1e-7, 123456789.125, 1e21]},
                    gps_accuracy_m=999.5,
                ),
            ),
            OK,
        ),
        (
            coop.sign(
                "plot",
                plot_with(
                    "CI-SOU-0002-P3",
                    {"type": "Polygon", "coordinates": poly},
                    declared_area_ha=0.25,
                ),
            ),
            OK,
        ),
        (
            coop.sign(
                "plot",
                plot_with(
                    "CI-SOU-0002-P4", {"type": "Polygon", "coordinates": [poly[0][:3]]}
                ),
            ),
            refused("schema-invalid"),
        ),
        (
            coop.sign(
                "plot",
                plot_with("CI-SOU-0002-P5", {"type": "Point", "coordinates": poly}),
            ),
            refused("schema-invalid"),
        ),
        (
            coop.sign(
                "plot",
                plot_with(
                    "CI-SOU-0002-P6",
                    {"type": "Point", "coordinates": [1, 2]},
                    gps_accuracy_m=1000.0001,
                ),
            ),
            refused("schema-invalid"),
        ),
        (
            coop.sign(
                "plot",
                plot_with(
                    "CI-SOU-0002-P7",
                    {"type": "Point", "coordinates": [1, 2]},
                    declared_area_ha=0,
                ),
            ),
            refused("schema-invalid"),
        ),
    )
    big = 100_000_000_000
    s.submit(
        COOP,
        (coop.sign("harvest", harvest("H-1", big)), OK),
        (coop.sign("harvest", harvest("H-2", big + 1)), refused("schema-invalid")),
        (coop.sign("harvest", harvest("H-3", 1.5)), refused("schema-invalid")),
        (
            coop.sign("harvest", {**harvest("H-4", 10), "harvested_on": "2025-13-01"}),
            refused("schema-invalid"),
        ),
        (
            coop.sign("purchase", {**purchase("PU-1", 10), "currency": "xof"}),
            refused("schema-invalid"),
        ),
        (
            coop.sign("purchase", {**purchase("PU-2", 10), "price": -1}),
            refused("schema-invalid"),
        ),
        (
            coop.sign("purchase", {**purchase("PU-3", 10), "grade": "grade-3"}),
            refused("schema-invalid"),
        ),
        (coop.sign("purchase", purchase("PU-4", big)), OK),
        (
            coop.sign(
                "drying",
                {
                    "id": "D-1",
                    "stage": "drying",
                    "purchases": ["PU-4"],
                    "started_on": "2025-02-22",
                    "moisture_pct": 100.5,
                },
            ),
            refused("schema-invalid"),
        ),
        (coop.sign("lot", {"id": "LOT-1", "inputs": []}), refused("schema-invalid")),
        (coop.sign("lot", lot("LOT-2", ("PU-4", big))), OK),
    )
    s.expect_state = {"lot/LOT-2": {"mass_g": big, "remaining_g": big}}
    return s


SCENARIOS = (
    happy_journey,
    mass_balance,
    forged_signature,
    revoked_device,
    replayed_event,
    chain_gap,
    out_of_order,
    sale_twice,
    processing_not_held,
    submitter_and_schema,
    corrections,
    schema_edges,
)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path(__file__).parent
    for build in SCENARIOS:
        scenario = build()
        path = out / f"{scenario.name}.json"
        path.write_text(
            json.dumps(scenario.to_json(), indent=1, ensure_ascii=False) + "\n"
        )
        print(f"wrote {path} ({len(scenario.steps)} steps)")


if __name__ == "__main__":
    main()

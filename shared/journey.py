"""The journey rules: devices, chains, ownership, mass balance, sale-once.

The same rules, codes and state values as the Fabric chaincode (chaincode/README.md),
over a small key-value state so the hub's embedded ledger can persist them. Pure: no
I/O, no wall clock, no randomness; time is the caller's transaction time.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.errors import CocoaError, MalformedRecord, SchemaInvalid
from shared.keys import verify
from shared.record import GENESIS, Header, SignedRecord, parse
from shared.validation import validate_body

APPLIED = "applied"
ALREADY_RECORDED = "already-recorded"
REFUSED = "refused"

ROLES = frozenset(
    {"cooperative", "manufacturer", "distributor", "retailer", "auditor", "operator"}
)
SALTED_TYPES = frozenset({"farmer", "plot", "harvest", "purchase"})
CORRECTABLE_TYPES = frozenset({"farmer", "plot", "harvest", "drying"})
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
DEVICE_ID_RE = re.compile(r"^[dh]-[0-9a-f]{12}$")
SALT_MIN, SALT_MAX = 16, 64

# HTTP status of each code when the hub turns a refusal into a problem document.
STATUS = {
    "malformed-record": 400,
    "bad-signature": 422,
    "device-unknown": 404,
    "device-revoked": 403,
    "wrong-org": 403,
    "chain-gap": 409,
    "chain-broken": 409,
    "already-recorded": 409,
    "salt-missing": 409,
    "schema-invalid": 400,
    "unknown-asset": 404,
    "asset-exists": 409,
    "mass-exceeded": 422,
    "not-owner": 403,
    "not-holder": 403,
    "not-recipient": 403,
    "already-sold": 422,
    "out-of-order": 409,
    "not-admin": 403,
}


class JourneyError(CocoaError):
    """A rule refused an operation; `code` is one of the stable codes in STATUS."""

    title = "Journey rule refused the operation"

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.status = STATUS[code]


class State(Protocol):
    """Where the journey keeps its values; the hub backs it with its database."""

    def get(self, key: str) -> dict | None: ...

    def put(self, key: str, value: dict) -> None: ...

    def append_history(self, key: str, entry: dict) -> None: ...

    def history(self, key: str) -> list[dict]: ...


class MemoryState:
    """A State in dictionaries, for tests and the conformance runner."""

    def __init__(self) -> None:
        self.values: dict[str, dict] = {}
        self.histories: dict[str, list[dict]] = {}

    def get(self, key: str) -> dict | None:
        return self.values.get(key)

    def put(self, key: str, value: dict) -> None:
        self.values[key] = value

    def append_history(self, key: str, entry: dict) -> None:
        self.histories.setdefault(key, []).append(entry)

    def history(self, key: str) -> list[dict]:
        return list(self.histories.get(key, []))


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls an administrative operation: an organisation and its admin flag."""

    org: str
    admin: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one submitted event."""

    id: str
    status: str
    code: str = ""
    detail: str = ""

    def to_json(self) -> dict:
        doc = {"id": self.id, "status": self.status}
        if self.code:
            doc["code"] = self.code
            doc["detail"] = self.detail
        return doc


class _Tx:
    """Reads through pending writes; flushes each key once, like a Fabric write set."""

    def __init__(self, state: State, tx_id: str, time: str):
        self.state = state
        self.tx_id = tx_id
        self.time = time
        self.writes: dict[str, dict] = {}

    def get(self, key: str) -> dict | None:
        if key in self.writes:
            value = self.writes[key]

        else:
            value = self.state.get(key)

        # A rule may change what it read and then refuse; it must change a copy.
        return copy.deepcopy(value) if value is not None else None

    def put(self, key: str, value: dict) -> None:
        self.writes[key] = value

    def commit(self) -> None:
        for key, value in self.writes.items():
            self.state.put(key, value)
            entry = {"tx_id": self.tx_id, "time": self.time, "deleted": False}
            self.state.append_history(key, entry | {"value": value})


@dataclass
class _Event:
    """One submitted event while it is checked and applied."""

    record: SignedRecord
    header: Header
    org: str
    salt: bytes = b""
    writes: dict[str, dict] = field(default_factory=dict)


class Journey:
    """The rules over a State; every public method is one transaction.

    The administrative methods also take keyword `tx_id` and `tx_time`, written in the
    history entries. Keys under `pvt/<org>/` hold an organisation's private data (the
    salt, purchase records with prices): the hub must never publish them.
    """

    def __init__(self, state: State):
        self.state = state

    # -- administration ------------------------------------------------------

    def register_org(
        self, slug: str, msp: str, caller: Caller | None = None, **tx: str
    ) -> dict:
        """Bind an organisation slug to its MSP id; once per slug and per MSP id."""
        # On Fabric the slug binds to the admin's own MSP id; here `msp` stands for it.
        if caller is not None and not caller.admin:
            raise JourneyError("not-admin", f"only an admin of {slug} may register it")

        if not SLUG_RE.match(slug):
            raise JourneyError("schema-invalid", f"{slug!r} is not an org slug")

        t = self._tx(tx)
        if t.get(_org_key(slug)) is not None:
            raise JourneyError("asset-exists", f"organisation {slug} is registered")

        if t.get(f"msp/{msp}") is not None:
            raise JourneyError("asset-exists", f"MSP {msp} has an organisation already")

        org = {"slug": slug, "msp": msp}
        t.put(_org_key(slug), org)
        t.put(f"msp/{msp}", {"slug": slug})
        t.put(f"inbox/{slug}", {"last": ""})
        t.commit()
        return org

    def set_pseudonym_salt(
        self, org: str, salt: bytes, caller: Caller | None = None, **tx: str
    ) -> None:
        """Store the org's secret salt for farmer and plot pseudonyms; once."""
        t = self._tx(tx)
        self._check_admin(t, org, caller)
        if not SALT_MIN <= len(salt) <= SALT_MAX:
            raise JourneyError(
                "schema-invalid", f"salt must be {SALT_MIN} to {SALT_MAX} bytes"
            )

        if t.get(_salt_key(org)) is not None:
            raise JourneyError("asset-exists", f"the salt of {org} is set already")

        t.put(_salt_key(org), {"salt": base64.b64encode(salt).decode()})
        t.commit()

    def register_device(
        self,
        device_id: str,
        public_key_b64: str,
        org: str,
        role: str,
        caller: Caller | None = None,
        **tx: str,
    ) -> dict:
        """Enrol a device key for an organisation."""
        t = self._tx(tx)
        self._check_admin(t, org, caller)
        _check_device_id(device_id, public_key_b64)
        if role not in ROLES:
            raise JourneyError("schema-invalid", f"role {role!r} is not one of {ROLES}")

        if t.get(_device_key(device_id)) is not None:
            raise JourneyError("asset-exists", f"device {device_id} is registered")

        device = {
            "id": device_id,
            "public_key": public_key_b64,
            "org": org,
            "role": role,
            "status": "active",
            "seq": 0,
            "last": GENESIS,
        }
        t.put(_device_key(device_id), device)
        t.commit()
        return device

    def revoke_device(
        self, device_id: str, caller: Caller | None = None, **tx: str
    ) -> dict:
        """Revoke a device; its later events are refused."""
        t = self._tx(tx)
        device = t.get(_device_key(device_id))
        if device is None:
            raise JourneyError(
                "device-unknown", f"device {device_id} is not registered"
            )

        self._check_admin(t, device["org"], caller)
        if device["status"] == "revoked":
            raise JourneyError(
                "device-revoked", f"device {device_id} is revoked already"
            )

        device["status"] = "revoked"
        t.put(_device_key(device_id), device)
        t.commit()
        return device

    # -- events --------------------------------------------------------------

    def submit(
        self,
        events: Sequence[SignedRecord],
        tx_time: str | datetime,
        caller_org: str | None = None,
        *,
        tx_id: str = "",
    ) -> list[Outcome]:
        """Check and apply signed events in order; `caller_org` None is the hub."""
        time = _tx_time(tx_time)
        tx_id = tx_id or _default_tx_id(events, time)
        t = _Tx(self.state, tx_id, time)
        outcomes = [self._one(t, rec, caller_org) for rec in events]
        t.commit()
        return outcomes

    # -- queries -------------------------------------------------------------

    def read_asset(self, key: str) -> dict:
        value = self.state.get(key)
        if value is None or key.startswith("pvt/"):
            raise JourneyError("unknown-asset", f"nothing is stored at {key}")

        return value

    def asset_history(self, key: str) -> list[dict]:
        if key.startswith("pvt/"):
            raise JourneyError("unknown-asset", f"nothing is stored at {key}")

        return self.state.history(key)

    def record_proof(self, record_id: str) -> dict:
        rec = self.state.get(f"record/{record_id}")
        if rec is None:
            raise JourneyError("unknown-asset", f"record {record_id} is not recorded")

        keep = ("tx_id", "time", "status", "code")
        return {"record": record_id} | {k: rec[k] for k in keep}

    # -- internals -----------------------------------------------------------

    def _tx(self, tx: dict[str, str]) -> _Tx:
        unknown = set(tx) - {"tx_id", "tx_time"}
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)}")

        return _Tx(self.state, tx.get("tx_id", ""), tx.get("tx_time", ""))

    def _check_admin(self, t: _Tx, org: str, caller: Caller | None) -> None:
        if t.get(_org_key(org)) is None:
            raise JourneyError("unknown-asset", f"organisation {org} is not registered")

        if caller is not None and (not caller.admin or caller.org != org):
            raise JourneyError("not-admin", f"the caller is not an admin of {org}")

    def _one(self, t: _Tx, rec: SignedRecord, caller_org: str | None) -> Outcome:
        try:
            event = self._admit(t, rec, caller_org)
        except JourneyError as exc:
            status = ALREADY_RECORDED if exc.code == "already-recorded" else REFUSED
            return Outcome(rec.id, status, exc.code, exc.detail)

        try:
            validate_body(event.header.type, event.header.body)
            asset = RULES[event.header.type](t, event)
        except SchemaInvalid as exc:
            return self._settle(
                t, event, "", JourneyError("schema-invalid", exc.detail)
            )
        except JourneyError as exc:
            return self._settle(t, event, "", exc)

        return self._settle(t, event, asset, None)

    def _admit(self, t: _Tx, rec: SignedRecord, caller_org: str | None) -> _Event:
        """Checks 1-9 of the README: none of them advances the chain."""
        if len(rec.signature) != 64:
            raise JourneyError("malformed-record", "the signature is not 64 bytes")

        try:
            head = parse(rec.raw)
        except MalformedRecord as exc:
            raise JourneyError("malformed-record", exc.detail) from None

        device = t.get(_device_key(head.device))
        if device is None:
            raise JourneyError(
                "device-unknown", f"device {head.device} is not registered"
            )

        if device["status"] == "revoked":
            raise JourneyError("device-revoked", f"device {head.device} is revoked")

        if caller_org is not None and caller_org != device["org"]:
            raise JourneyError(
                "wrong-org",
                f"device {head.device} belongs to {device['org']}, not {caller_org}",
            )

        public = base64.b64decode(device["public_key"])
        if not verify(public, rec.signature, rec.raw):
            raise JourneyError("bad-signature", "the signature does not verify")

        if t.get(f"record/{rec.id}") is not None:
            raise JourneyError("already-recorded", f"record {rec.id} is on the ledger")

        _check_chain(head, device)
        event = _Event(rec, head, device["org"])
        if head.type in SALTED_TYPES:
            salt = t.get(_salt_key(device["org"]))
            if salt is None:
                raise JourneyError(
                    "salt-missing", f"{device['org']} has no pseudonym salt yet"
                )

            event.salt = base64.b64decode(salt["salt"])

        return event

    def _settle(
        self, t: _Tx, event: _Event, asset: str, error: JourneyError | None
    ) -> Outcome:
        """Advance the chain and store the record, applied or refused."""
        head, rid = event.header, event.record.id
        device = t.get(_device_key(head.device))
        device["seq"], device["last"] = head.seq, rid
        t.put(_device_key(head.device), device)
        if error is None:
            for key, value in event.writes.items():
                t.put(key, value)

        t.put(
            f"record/{rid}",
            {
                "id": rid,
                "type": head.type,
                "device": head.device,
                "seq": head.seq,
                "status": REFUSED if error else APPLIED,
                "code": error.code if error else "",
                "asset": asset,
                "tx_id": t.tx_id,
                "time": t.time,
            },
        )
        if error:
            return Outcome(rid, REFUSED, error.code, error.detail)

        return Outcome(rid, APPLIED)


# -- rules: each checks everything first, then stages its writes on the event ----


def _farmer(t: _Tx, ev: _Event) -> str:
    key = f"farmer/{_pseudonym(ev, ev.header.body['id'])}"
    _check_new(t, ev, key)
    ev.writes[key] = {"org": ev.org, "record": ev.record.id}
    return key


def _plot(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"plot/{_pseudonym(ev, body['id'])}"
    _check_new(t, ev, key)
    farmer = _farmer_of(t, ev, body["farmer"])
    ev.writes[key] = {"org": ev.org, "farmer": farmer, "record": ev.record.id}
    return key


def _harvest(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"harvest/{body['id']}"
    old = _check_new(t, ev, key)
    farmer, plot = _farm_and_plot(t, ev)
    ev.writes[key] = {
        "org": ev.org,
        "farmer": farmer,
        "plot": plot,
        "mass_g": body["mass_g"],
        "purchased_g": old["purchased_g"] if old else 0,
        "harvested_on": body["harvested_on"],
        "record": ev.record.id,
    }
    return key


def _purchase(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"purchase/{body['id']}"
    _check_new(t, ev, key)
    farmer, plot = _farm_and_plot(t, ev)
    harvest_id = body.get("harvest", "")
    if harvest_id:
        harvest = _need(t, f"harvest/{harvest_id}", ev.org)
        if harvest["purchased_g"] + body["mass_g"] > harvest["mass_g"]:
            left = harvest["mass_g"] - harvest["purchased_g"]
            raise JourneyError(
                "mass-exceeded", f"harvest {harvest_id} has {left} g left to purchase"
            )

        harvest["purchased_g"] += body["mass_g"]
        ev.writes[f"harvest/{harvest_id}"] = harvest

    ev.writes[key] = {
        "org": ev.org,
        "owner": ev.org,
        "farmer": farmer,
        "plot": plot,
        "harvest": harvest_id,
        "mass_g": body["mass_g"],
        "remaining_g": body["mass_g"],
        "grade": body["grade"],
        "record": ev.record.id,
    }
    rec = ev.record
    ev.writes[f"pvt/{ev.org}/{key}"] = {
        "record": rec.id,
        "raw": base64.b64encode(rec.raw).decode(),
        "sig": base64.b64encode(rec.signature).decode(),
    }
    return key


def _drying(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"drying/{body['id']}"
    _check_new(t, ev, key)
    for pid in body["purchases"]:
        _owned(t, f"purchase/{pid}", ev.org)

    ev.writes[key] = {
        "org": ev.org,
        "stage": body["stage"],
        "purchases": list(body["purchases"]),
        "record": ev.record.id,
    }
    return key


def _lot(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"lot/{body['id']}"
    _check_new(t, ev, key)
    purchases = {}
    for item in body["inputs"]:
        pkey = f"purchase/{item['purchase']}"
        purchases.setdefault(pkey, _owned(t, pkey, ev.org))

    for pkey, grams in _sum_grams(body["inputs"], "purchase", "purchase/").items():
        purchase = purchases[pkey]
        _take(purchase, grams, pkey)
        ev.writes[pkey] = purchase

    total = sum(item["mass_g"] for item in body["inputs"])
    ev.writes[key] = {
        "org": ev.org,
        "owner": ev.org,
        "holder": ev.org,
        "status": "held",
        "to_org": "",
        "shipment": "",
        "mass_g": total,
        "remaining_g": total,
        "lost_g": 0,
        "inputs": [dict(item) for item in body["inputs"]],
        "record": ev.record.id,
    }
    return key


def _dispatch(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"shipment/{body['id']}"
    _check_new(t, ev, key)
    if len(set(body["lots"])) != len(body["lots"]):
        raise JourneyError("schema-invalid", "a lot is named twice in the dispatch")

    _need_org(t, body["to_org"])
    lots = {}
    for lot_id in body["lots"]:
        lot = _need(t, f"lot/{lot_id}")
        if lot["holder"] != ev.org:
            raise JourneyError("not-holder", f"lot {lot_id} is held by {lot['holder']}")

        if lot["status"] != "held" or lot["remaining_g"] == 0:
            raise JourneyError(
                "out-of-order",
                f"lot {lot_id} is {lot['status']} with {lot['remaining_g']} g left",
            )

        lots[lot_id] = lot

    for lot_id, lot in lots.items():
        lot.update(status="in-transit", to_org=body["to_org"], shipment=body["id"])
        ev.writes[f"lot/{lot_id}"] = lot

    ev.writes[key] = {
        "from_org": ev.org,
        "to_org": body["to_org"],
        "lots": list(body["lots"]),
        "status": "in-transit",
        "record": ev.record.id,
        "receipt": "",
    }
    return key


def _receipt(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"shipment/{body['shipment']}"
    shipment = _need(t, key)
    if shipment["to_org"] != ev.org:
        raise JourneyError(
            "not-recipient", f"shipment {body['shipment']} goes to {shipment['to_org']}"
        )

    if shipment["status"] != "in-transit":
        raise JourneyError("out-of-order", f"shipment {body['shipment']} is received")

    seen = set()
    for item in body["lots"]:
        if item["lot"] in seen:
            raise JourneyError("schema-invalid", f"lot {item['lot']} is named twice")

        if item["lot"] not in shipment["lots"]:
            raise JourneyError(
                "unknown-asset",
                f"lot {item['lot']} is not in shipment {body['shipment']}",
            )

        seen.add(item["lot"])

    if len(seen) != len(shipment["lots"]):
        raise JourneyError(
            "schema-invalid", "a receipt names every lot of its shipment"
        )

    for item in body["lots"]:
        lot_key = f"lot/{item['lot']}"
        lot = t.get(lot_key)
        if item["mass_g"] > lot["remaining_g"]:
            raise JourneyError(
                "mass-exceeded",
                f"lot {item['lot']} left with {lot['remaining_g']} g, "
                f"{item['mass_g']} g received",
            )

        lost = lot["lost_g"] + lot["remaining_g"] - item["mass_g"]
        lot.update(holder=ev.org, status="held", to_org="", lost_g=lost)
        lot["remaining_g"] = item["mass_g"]
        ev.writes[lot_key] = lot

    shipment.update(status="received", receipt=ev.record.id)
    ev.writes[key] = shipment
    return key


def _processing(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"batch/{body['id']}"
    _check_new(t, ev, key)
    lots = {}
    for item in body["inputs"]:
        lot_key = f"lot/{item['lot']}"
        lot = lots.setdefault(lot_key, _owned(t, lot_key, ev.org))
        if lot["holder"] != ev.org or lot["status"] != "held":
            raise JourneyError(
                "not-holder",
                f"lot {item['lot']} is {lot['status']}, held by {lot['holder']}",
            )

    for lot_key, grams in _sum_grams(body["inputs"], "lot", "lot/").items():
        _take(lots[lot_key], grams, lot_key)
        ev.writes[lot_key] = lots[lot_key]

    ev.writes[key] = {
        "org": ev.org,
        "owner": ev.org,
        "product": body["product"],
        "units": body["units"],
        "sold_units": 0,
        "output_mass_g": body.get("output_mass_g", 0),
        "inputs": [dict(item) for item in body["inputs"]],
        "record": ev.record.id,
    }
    return key


def _transfer(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"lot/{body['asset']}"
    asset = t.get(key)
    if asset is None:
        key = f"batch/{body['asset']}"
        asset = _need(t, key)

    _need_org(t, body["to_org"])
    if asset["owner"] != ev.org:
        raise JourneyError("not-owner", f"{key} is owned by {asset['owner']}")

    asset["owner"] = body["to_org"]
    ev.writes[key] = asset
    ev.writes[f"inbox/{body['to_org']}"] = {"last": ev.record.id}
    return key


def _sale(t: _Tx, ev: _Event) -> str:
    body = ev.header.body
    key = f"sale/{body['id']}"
    _check_new(t, ev, key)
    batch_key = f"batch/{body['batch']}"
    batch = _owned(t, batch_key, ev.org)
    if batch["sold_units"] + body["units"] > batch["units"]:
        left = batch["units"] - batch["sold_units"]
        raise JourneyError(
            "already-sold", f"batch {body['batch']} has {left} unsold units"
        )

    batch["sold_units"] += body["units"]
    ev.writes[batch_key] = batch
    ev.writes[key] = {
        "org": ev.org,
        "batch": body["batch"],
        "units": body["units"],
        "record": ev.record.id,
    }
    return key


RULES = {
    "farmer": _farmer,
    "plot": _plot,
    "harvest": _harvest,
    "purchase": _purchase,
    "drying": _drying,
    "lot": _lot,
    "dispatch": _dispatch,
    "receipt": _receipt,
    "processing": _processing,
    "transfer": _transfer,
    "sale": _sale,
}


# -- helpers ----------------------------------------------------------------------


def _check_new(t: _Tx, ev: _Event, key: str) -> dict | None:
    """Refuse an existing key, unless the event corrects the record that made it."""
    old = t.get(key)
    if old is None:
        return None

    corrects = ev.header.body.get("corrects")
    if ev.header.type in CORRECTABLE_TYPES and corrects == old.get("record"):
        return old

    raise JourneyError("asset-exists", f"{key} exists")


def _need(t: _Tx, key: str, org: str | None = None) -> dict:
    value = t.get(key)
    if value is None or (org is not None and value.get("org") != org):
        raise JourneyError("unknown-asset", f"{key} is not on the ledger")

    return value


def _owned(t: _Tx, key: str, org: str) -> dict:
    value = _need(t, key)
    if value["owner"] != org:
        raise JourneyError("not-owner", f"{key} is owned by {value['owner']}")

    return value


def _need_org(t: _Tx, slug: str) -> None:
    if t.get(_org_key(slug)) is None:
        raise JourneyError("unknown-asset", f"organisation {slug} is not registered")


def _farmer_of(t: _Tx, ev: _Event, code: str) -> str:
    pseudonym = _pseudonym(ev, code)
    _need(t, f"farmer/{pseudonym}", ev.org)
    return pseudonym


def _farm_and_plot(t: _Tx, ev: _Event) -> tuple[str, str]:
    body = ev.header.body
    farmer = _farmer_of(t, ev, body["farmer"])
    plot = _pseudonym(ev, body["plot"])
    if _need(t, f"plot/{plot}", ev.org)["farmer"] != farmer:
        raise JourneyError(
            "unknown-asset", f"plot {plot} is not a plot of farmer {farmer}"
        )

    return farmer, plot


def _sum_grams(items: list[dict], name: str, prefix: str) -> dict[str, int]:
    """Grams per referenced object, in order of first mention."""
    sums: dict[str, int] = {}
    for item in items:
        key = prefix + item[name]
        sums[key] = sums.get(key, 0) + item["mass_g"]

    return sums


def _take(value: dict, grams: int, key: str) -> None:
    if grams > value["remaining_g"]:
        raise JourneyError(
            "mass-exceeded", f"{key} has {value['remaining_g']} g left, {grams} g asked"
        )

    value["remaining_g"] -= grams


def _pseudonym(ev: _Event, code: str) -> str:
    return hmac.new(ev.salt, code.encode(), hashlib.sha256).hexdigest()


def _check_chain(head: Header, device: dict) -> None:
    if head.seq > device["seq"] + 1:
        raise JourneyError(
            "chain-gap", f"seq {head.seq} after {device['seq']}: records are missing"
        )

    if head.seq <= device["seq"]:
        raise JourneyError(
            "chain-broken", f"seq {head.seq} is taken by another record of the device"
        )

    if head.prev != device["last"]:
        raise JourneyError("chain-broken", "prev is not the id of the last record")


def _check_device_id(device_id: str, public_key_b64: str) -> None:
    try:
        public = base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise JourneyError("schema-invalid", "the public key is not base64") from None

    if len(public) != 32:
        raise JourneyError("schema-invalid", "the public key is not 32 raw bytes")

    digest = hashlib.sha256(public).hexdigest()[:12]
    if not DEVICE_ID_RE.match(device_id) or device_id[2:] != digest:
        raise JourneyError(
            "schema-invalid", f"device id must be d-{digest} or h-{digest}"
        )


def _org_key(slug: str) -> str:
    return f"org/{slug}"


def _salt_key(org: str) -> str:
    return f"pvt/{org}/salt"


def _device_key(device_id: str) -> str:
    return f"device/{device_id}"


def _tx_time(value: str | datetime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return value


def _default_tx_id(events: Sequence[SignedRecord], time: str) -> str:
    digest = hashlib.sha256(time.encode())
    for rec in events:
        digest.update(rec.id.encode())

    return digest.hexdigest()


def event_from_json(doc: dict[str, Any]) -> SignedRecord:
    """A submitted event from its transient form {raw, sig} (base64)."""
    return SignedRecord(base64.b64decode(doc["raw"]), base64.b64decode(doc["sig"]))

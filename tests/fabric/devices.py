"""Fixed device keys and their record chains, for events the tests submit."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

from shared.keys import DeviceKey
from shared.record import GENESIS, SignedRecord, sign_record

TIME = "2026-03-02T08:00:00Z"


def fixed_key(name: str) -> DeviceKey:
    """The same test key every run, derived from a name; never a real device's."""
    return DeviceKey.from_seed(hashlib.sha256(f"cocoa-fabric:{name}".encode()).digest())


@dataclass
class Device:
    """A test device: its key, its organisation slug and where its chain stands."""

    key: DeviceKey
    org: str
    seq: int = 0
    prev: str = GENESIS
    signed: list[SignedRecord] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.key.device_id

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.key.public_raw).decode()

    def sign(self, rtype: str, body: dict) -> SignedRecord:
        """Sign the next record of this device's chain and advance the chain."""
        record = sign_record(self.key, rtype, self.seq + 1, self.prev, body, TIME)
        self.seq += 1
        self.prev = record.id
        self.signed.append(record)
        return record


def forge(record: SignedRecord, impostor: DeviceKey) -> SignedRecord:
    """The same bytes, signed by a key that is not the named device's."""
    return SignedRecord(record.raw, impostor.sign(record.raw))


def events_transient(*records: SignedRecord) -> dict[str, bytes]:
    """The `events` transient value SubmitEvents and the one-event calls read."""
    events = [
        {
            "raw": base64.b64encode(r.raw).decode(),
            "sig": base64.b64encode(r.signature).decode(),
        }
        for r in records
    ]
    return {"events": json.dumps(events).encode()}

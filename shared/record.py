"""The signed record: canonical bytes, signature, id, and the fields inside.

See docs/record-format.md. This module does no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import rfc8785

from shared.errors import MalformedRecord
from shared.keys import DeviceKey

VERSION = 1
GENESIS = "0" * 64
TYPES = (
    "farmer",
    "plot",
    "harvest",
    "purchase",
    "drying",
    "lot",
    "dispatch",
    "receipt",
    "processing",
    "transfer",
    "sale",
)
TOP_KEYS = frozenset({"v", "type", "device", "seq", "prev", "time", "body"})
DEVICE_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


MAX_SAFE_INT = 2**53 - 1


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value.

    Records are mostly strings and whole numbers, for which the standard library's
    sorted compact output is already RFC 8785 and runs ~20x faster than the pure
    Python encoder; floats and non-ASCII keys (where number formatting and UTF-16
    key order differ) take the full encoder.
    """
    if _plain(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError) as exc:
        raise MalformedRecord(f"value has no canonical JSON form: {exc}") from None


def _plain(value: Any) -> bool:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_SAFE_INT <= value <= MAX_SAFE_INT
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return False


def record_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def device_time(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Header:
    """The envelope fields of a parsed record."""

    type: str
    device: str
    seq: int
    prev: str
    time: str
    body: dict = field(repr=False)


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """Signed bytes exactly as the device produced them, and their signature."""

    raw: bytes
    signature: bytes
    # Hashed once: the frame decoder, ingest and the ledger all ask for it.
    id: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", record_id(self.raw))

    def header(self) -> Header:
        return parse(self.raw)


def sign_record(
    key: DeviceKey,
    rtype: str,
    seq: int,
    prev: str,
    body: dict,
    time: str | None = None,
) -> SignedRecord:
    """Build and sign the canonical bytes of one record."""
    doc = {
        "v": VERSION,
        "type": rtype,
        "device": key.device_id,
        "seq": seq,
        "prev": prev,
        "time": time or device_time(),
        "body": body,
    }
    _check_envelope(doc)
    raw = canonical(doc)
    return SignedRecord(raw, key.sign(raw))


def parse(raw: bytes, *, strict: bool = True) -> Header:
    """Read the envelope of signed bytes; with `strict`, insist they are canonical."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRecord(f"record bytes are not JSON: {exc}") from None

    if not isinstance(doc, dict):
        raise MalformedRecord("record bytes are not a JSON object")

    _check_envelope(doc)
    if strict and canonical(doc) != raw:
        raise MalformedRecord(
            "record bytes are not RFC 8785 canonical JSON; sign the canonical form"
        )

    return Header(
        doc["type"], doc["device"], doc["seq"], doc["prev"], doc["time"], doc["body"]
    )


def _check_envelope(doc: dict) -> None:
    keys = set(doc)
    if keys != TOP_KEYS:
        missing = sorted(TOP_KEYS - keys)
        extra = sorted(keys - TOP_KEYS)
        raise MalformedRecord(f"envelope keys wrong: missing {missing}, extra {extra}")

    problems = []
    # JSON true equals 1 in Python; the Go reader refuses it, and so must we.
    if doc["v"] != VERSION or isinstance(doc["v"], bool):
        problems.append(f"v must be {VERSION}, got {doc['v']!r}")
    if doc["type"] not in TYPES:
        problems.append(f"type {doc['type']!r} is not one of {', '.join(TYPES)}")
    if not isinstance(doc["device"], str) or not DEVICE_RE.match(doc["device"]):
        problems.append(f"device {doc['device']!r} is not a device id")
    seq = doc["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        problems.append(f"seq must be a whole number from 1, got {seq!r}")
    if not isinstance(doc["prev"], str) or not HEX64_RE.match(doc["prev"]):
        problems.append("prev must be 64 lower-case hex digits")
    if not isinstance(doc["time"], str) or not TIME_RE.match(doc["time"]):
        problems.append(f"time {doc['time']!r} is not YYYY-MM-DDThh:mm:ssZ")
    if not isinstance(doc["body"], dict):
        problems.append("body must be an object")
    if problems:
        raise MalformedRecord("; ".join(problems))

    if seq == 1 and doc["prev"] != GENESIS:
        raise MalformedRecord("the first record of a device must have prev = 64 zeros")

"""The journey's key-value State in the hub database, and where org salts live.

Reads go through a cache filled by one SELECT per chunk (`prefetch`); writes and
history entries wait in memory until `flush` writes them in a few statements, inside
the caller's transaction. World-state values are overwritten like a Fabric peer's;
history rows are only ever inserted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hub.bulk import upsert
from hub.keyring import Keyring
from hub.models import LedgerState, LedgerStateHistory
from shared.errors import CocoaError

SALT_PREFIX, SALT_SUFFIX = "pvt/", "/salt"


class SaltMismatch(CocoaError):
    status = 500
    code = "ledger-salt-mismatch"
    title = "An organisation's pseudonym salt does not match the one on the ledger"


class SaltVault(Protocol):
    """Keeps each organisation's pseudonym salt away from the ledger tables."""

    def keep(self, org: str, salt: bytes) -> None: ...

    def salt(self, org: str) -> bytes | None: ...


class KeyringSalts:
    """Salts derived from the hub's master secret: nothing to store, same on restart."""

    def __init__(self, keyring: Keyring):
        self.secret = keyring.pseudonym_secret

    def salt(self, org: str) -> bytes:
        msg = b"journey salt\x00" + org.encode()
        return hmac.new(self.secret, msg, hashlib.sha256).digest()

    def keep(self, org: str, salt: bytes) -> None:
        if not hmac.compare_digest(salt, self.salt(org)):
            raise SaltMismatch(f"the salt offered for {org} is not the hub's own")


class MemorySalts:
    """Salts held in memory, as given (tests and conformance vectors)."""

    def __init__(self) -> None:
        self.salts: dict[str, bytes] = {}

    def salt(self, org: str) -> bytes | None:
        return self.salts.get(org)

    def keep(self, org: str, salt: bytes) -> None:
        self.salts[org] = salt


class DbState:
    """A `shared.journey.State` over ledger_state and ledger_state_history."""

    def __init__(self, session: Session, salts: SaltVault | None = None):
        self.session = session
        self.salts = salts or MemorySalts()
        self.cache: dict[str, dict | None] = {}
        self.dirty: dict[str, dict] = {}
        self.pending: list[dict] = []

    def prefetch(self, keys: Iterable[str]) -> None:
        """Read every uncached key of `keys` in one SELECT per 500 keys."""
        wanted = sorted({k for k in keys if k not in self.cache})
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            self.cache.update(dict.fromkeys(part))
            rows = self.session.execute(
                select(LedgerState.key, LedgerState.value).where(
                    LedgerState.key.in_(part)
                )
            )
            self.cache.update({r.key: r.value for r in rows})

    def get(self, key: str) -> dict | None:
        if key not in self.cache:
            self.prefetch([key])

        value = self.cache[key]
        org = _salt_org(key)
        if org is None or value is None:
            return value

        return {"salt": base64.b64encode(self._salt(org, value)).decode()}

    def put(self, key: str, value: dict) -> None:
        org = _salt_org(key)
        if org is not None:
            value = self._commit_salt(org, value)

        self.cache[key] = value
        self.dirty[key] = value

    def append_history(self, key: str, entry: dict) -> None:
        if _salt_org(key) is not None:
            entry = entry | {"value": self.cache[key]}

        self.pending.append({"key": key, **entry})

    def history(self, key: str) -> list[dict]:
        rows = self.session.scalars(
            select(LedgerStateHistory)
            .where(LedgerStateHistory.key == key)
            .order_by(LedgerStateHistory.id)
        )
        stored = [_entry(r) for r in rows]
        waiting = [_strip(e) for e in self.pending if e["key"] == key]
        return stored + waiting

    def flush(self) -> None:
        """Write pending values and history entries; the cache stays warm."""
        rows = [{"key": k, "value": v} for k, v in sorted(self.dirty.items())]
        for start in range(0, len(rows), 1000):
            upsert(self.session, LedgerState, rows[start : start + 1000], ["key"])

        if self.pending:
            self.session.execute(insert(LedgerStateHistory.__table__), self.pending)

        self.dirty, self.pending = {}, []

    def _commit_salt(self, org: str, value: dict) -> dict:
        # Only a hash of the salt sits next to the data; the vault holds the salt.
        salt = base64.b64decode(value["salt"])
        self.salts.keep(org, salt)
        return {"sha256": hashlib.sha256(salt).hexdigest()}

    def _salt(self, org: str, stored: dict) -> bytes:
        salt = self.salts.salt(org)
        if salt is None or hashlib.sha256(salt).hexdigest() != stored["sha256"]:
            raise SaltMismatch(
                f"the pseudonym salt of {org} is not the one set on the ledger; "
                "was the hub secret changed?"
            )

        return salt


def _salt_org(key: str) -> str | None:
    if key.startswith(SALT_PREFIX) and key.endswith(SALT_SUFFIX):
        org = key[len(SALT_PREFIX) : -len(SALT_SUFFIX)]
        return org if "/" not in org else None

    return None


def _entry(row: LedgerStateHistory) -> dict:
    return {"tx_id": row.tx_id, "time": row.time, "deleted": row.deleted} | {
        "value": row.value
    }


def _strip(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "key"}

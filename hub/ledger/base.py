"""The ledger port, in the vocabulary of the Fabric Gateway client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hub.errors import LedgerUnavailable

APPLIED = "committed"
REFUSED = "refused"
ALREADY = "already-recorded"


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """What the ledger may see of a record: ids, types, masses, pseudonyms, hashes."""

    record_id: str
    device: str
    seq: int
    prev: str
    type: str
    org: str
    payload: dict
    # Set when the hub already knows the record breaks a rule (quarantine); the
    # ledger records it as refused so its copy of the device chain still advances.
    refused: tuple[str, str] | None = None
    # The record exactly as signed: the rules check the signature themselves.
    raw: bytes = b""
    signature: bytes = b""


@dataclass(frozen=True, slots=True)
class SubmitResult:
    record_id: str
    status: str
    tx_id: str
    block: int | None = None
    code: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Proof:
    """Enough to check offline that a record id sits in a block of the chain."""

    record_id: str
    block: int
    position: int
    path: list[dict]
    headers: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "record_id": self.record_id,
            "block": self.block,
            "position": self.position,
            "path": self.path,
            "headers": self.headers,
        }


class Ledger(Protocol):
    """Where accepted events are committed, embedded or on a Fabric channel."""

    def submit(self, events: list[LedgerEvent]) -> list[SubmitResult]: ...

    def proof(self, record_id: str) -> Proof: ...

    def history(self, asset: str) -> list[dict]: ...


class EndorseError(LedgerUnavailable):
    code = "ledger-endorse-failed"
    title = "Peers did not endorse the transaction"


class SubmitError(LedgerUnavailable):
    code = "ledger-submit-failed"
    title = "The orderer did not accept the transaction"


class CommitStatusError(LedgerUnavailable):
    code = "ledger-commit-status-failed"
    title = "The commit status could not be read"


class CommitError(LedgerUnavailable):
    code = "ledger-commit-failed"
    title = "The transaction did not commit"

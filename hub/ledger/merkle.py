"""Merkle tree over record ids, with domain-separated leaves and nodes (RFC 6962)."""

from __future__ import annotations

import hashlib


def leaf_hash(record_id: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(record_id)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(record_ids: list[str]) -> str:
    level = [leaf_hash(r) for r in record_ids]
    if not level:
        return hashlib.sha256(b"").hexdigest()

    while len(level) > 1:
        level = _up(level)
    return level[0].hex()


def path(record_ids: list[str], index: int) -> list[dict]:
    """Sibling hashes from the leaf at `index` up to the root."""
    level = [leaf_hash(r) for r in record_ids]
    steps = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            side = "left" if sibling < index else "right"
            steps.append({"side": side, "hash": level[sibling].hex()})
        level = _up(level)
        index //= 2
    return steps


def root_from_path(record_id: str, steps: list[dict]) -> str:
    node = leaf_hash(record_id)
    for step in steps:
        other = bytes.fromhex(step["hash"])
        node = (
            node_hash(other, node) if step["side"] == "left" else node_hash(node, other)
        )
    return node.hex()


def _up(level: list[bytes]) -> list[bytes]:
    # An odd node is promoted unchanged rather than paired with itself, so no two
    # different id lists share a root (the duplicated-leaf weakness).
    pairs = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        pairs.append(level[-1])
    return pairs

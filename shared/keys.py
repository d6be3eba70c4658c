"""Ed25519 device keys: create, store, load, sign and verify."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from shared.errors import DeviceKeyError

RAW = serialization.Encoding.Raw
RAW_PUB = serialization.PublicFormat.Raw


def device_id_for(public_raw: bytes) -> str:
    """The device id is derived from the key, so it cannot be claimed by another key."""
    return "d-" + hashlib.sha256(public_raw).hexdigest()[:12]


@dataclass(frozen=True)
class DeviceKey:
    """A device's private key and the id derived from it."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> DeviceKey:
        """A fixed key for test vectors and benchmarks; never for a real device."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    # Cached: every signed record names the device, and deriving the public key
    # and its hash again each time showed up in the edge's per-record profile.
    @cached_property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(RAW, RAW_PUB)

    @cached_property
    def device_id(self) -> str:
        return device_id_for(self.public_raw)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def save(self, path: Path, passphrase: str | None = None) -> None:
        """Write the key as PKCS#8 PEM, readable by its owner only."""
        if passphrase:
            algo = serialization.BestAvailableEncryption(passphrase.encode())
        else:
            algo = serialization.NoEncryption()
        pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algo
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Create with 0600 from the start: a chmod after writing leaves a window.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)

    @classmethod
    def load(cls, path: Path, passphrase: str | None = None) -> DeviceKey:
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise DeviceKeyError(
                f"no device key at {path}; run 'cocoa-edge init' first"
            ) from None

        if path.stat().st_mode & 0o077:
            raise DeviceKeyError(
                f"device key {path} is readable by others; run 'chmod 600 {path}'"
            )

        secret = passphrase.encode() if passphrase else None
        try:
            key = serialization.load_pem_private_key(pem, password=secret)
        except (TypeError, ValueError) as exc:
            raise DeviceKeyError(f"cannot open device key {path}: {exc}") from None

        if not isinstance(key, Ed25519PrivateKey):
            raise DeviceKeyError(f"device key {path} is not an Ed25519 key")

        return cls(key)


def verify(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    """True when `signature` is `public_raw`'s Ed25519 signature of `data`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False

    return True

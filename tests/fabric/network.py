"""The running local Fabric network, as described by its network.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Org:
    """One peer organisation: its peer, TLS root and the MSP dirs of its users."""

    key: str
    msp_id: str
    peer_address: str
    peer_tls_ca: Path
    config_dir: Path
    admin_msp: Path
    user_msp: Path


@dataclass(frozen=True)
class FabricNetwork:
    """Connection facts for the channel, chaincode, orderer and both orgs."""

    channel: str
    chaincode: str
    bin_dir: Path
    run_dir: Path
    orderer_address: str
    orderer_tls_ca: Path
    orgs: dict[str, Org]

    def with_chaincode(self, name: str) -> FabricNetwork:
        """The same network, talking to another chaincode definition."""
        return replace(self, chaincode=name)

    @classmethod
    def load(cls, path: Path) -> FabricNetwork:
        doc = json.loads(path.read_text())
        orgs = {key: _org(key, value) for key, value in doc["orgs"].items()}
        return cls(
            channel=doc["channel"],
            chaincode=doc["chaincode"],
            bin_dir=Path(doc["bin_dir"]),
            run_dir=Path(doc["run_dir"]),
            orderer_address=doc["orderer"]["address"],
            orderer_tls_ca=Path(doc["orderer"]["tls_ca"]),
            orgs=orgs,
        )


def _org(key: str, doc: dict) -> Org:
    return Org(
        key=key,
        msp_id=doc["msp_id"],
        peer_address=doc["peer_address"],
        peer_tls_ca=Path(doc["peer_tls_ca"]),
        config_dir=Path(doc["config_dir"]),
        admin_msp=Path(doc["admin_msp"]),
        user_msp=Path(doc["user_msp"]),
    )

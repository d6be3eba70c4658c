"""Invoke and query the chaincode through Fabric's `peer` CLI as a chosen identity."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from dataclasses import dataclass

from tests.fabric.network import FabricNetwork, Org

CLI_TIMEOUT_S = 90
ESCAPE_RE = re.compile(rb"\\(?:([0-7]{3})|x([0-9a-fA-F]{2})|(.))", re.DOTALL)
SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r"}


class ChaincodeError(Exception):
    """The chaincode refused a proposal; `code` is the stable prefix of its message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        head = message.split(":", 1)[0]
        self.code = head if re.fullmatch(r"[a-z]+(-[a-z]+)*", head) else None


class TransactionInvalid(Exception):
    """The transaction was ordered but the peers marked it invalid at commit."""

    def __init__(self, status: str, output: str):
        super().__init__(f"transaction invalidated with status {status}")
        self.status = status
        self.output = output


@dataclass(frozen=True)
class Invoked:
    """A committed transaction: its id and the chaincode's answer."""

    tx_id: str
    payload: bytes

    def json(self):
        return json.loads(self.payload)


class Client:
    """The `peer` CLI acting as one user of one organisation."""

    def __init__(self, network: FabricNetwork, org: Org, user: str):
        self.network = network
        self.org = org
        self.user = user

    def query(self, function: str, *args: str) -> bytes:
        """Evaluate on this org's peer; nothing is ordered."""
        out = self._run(["chaincode", "query", *self._target(function, args)])
        return out.stdout.rstrip(b"\n")

    def query_json(self, function: str, *args: str):
        return json.loads(self.query(function, *args))

    def invoke(
        self,
        function: str,
        *args: str,
        transient: dict[str, bytes] | None = None,
        endorsers: tuple[str, ...] | None = None,
    ) -> Invoked:
        """Endorse on `endorsers` (org keys; default this org), order, wait for commit."""
        command = [
            "chaincode",
            "invoke",
            *self._orderer(),
            *self._target(function, args),
        ]
        for key in endorsers or (self.org.key,):
            peer = self.network.orgs[key]
            command += ["--peerAddresses", peer.peer_address]
            command += ["--tlsRootCertFiles", str(peer.peer_tls_ca)]
        if transient:
            encoded = {k: base64.b64encode(v).decode() for k, v in transient.items()}
            command += ["--transient", json.dumps(encoded)]
        command.append("--waitForEvent")

        out = self._run(command)
        log = out.stderr.decode(errors="replace")
        return Invoked(_tx_id(log), _payload(out.stderr))

    def _target(self, function: str, args: tuple[str, ...]) -> list[str]:
        call = json.dumps({"function": function, "Args": list(args)})
        return ["-C", self.network.channel, "-n", self.network.chaincode, "-c", call]

    def _orderer(self) -> list[str]:
        net = self.network
        return ["-o", net.orderer_address, "--tls", "--cafile", str(net.orderer_tls_ca)]

    def _run(self, command: list[str]) -> subprocess.CompletedProcess:
        msp = self.org.admin_msp if self.user == "Admin" else self.org.user_msp
        env = os.environ | {
            "FABRIC_CFG_PATH": str(self.org.config_dir),
            "FABRIC_LOGGING_FORMAT": "%{level} %{message}",
            "CORE_PEER_LOCALMSPID": self.org.msp_id,
            "CORE_PEER_MSPCONFIGPATH": str(msp),
            "CORE_PEER_ADDRESS": self.org.peer_address,
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_ROOTCERT_FILE": str(self.org.peer_tls_ca),
        }
        peer = self.network.bin_dir / "peer"
        out = subprocess.run(
            [str(peer), *command],
            env=env,
            capture_output=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        if out.returncode != 0:
            _raise_for(out.stderr.decode(errors="replace"))

        return out


def _raise_for(log: str) -> None:
    invalid = re.search(r"transaction invalidated with status \((\w+)\)", log)
    if invalid:
        raise TransactionInvalid(invalid.group(1), log)

    refused = re.search(r'response: status:\d+ message:"((?:[^"\\]|\\.)*)"', log)
    if refused:
        raise ChaincodeError(_unescape(refused.group(1).encode()).decode())

    raise RuntimeError(f"peer CLI failed:\n{log}")


def _tx_id(log: str) -> str:
    match = re.search(r"txid \[([0-9a-f]{64})\] committed with status \(VALID\)", log)
    if not match:
        raise RuntimeError(f"no VALID commit in the peer CLI output:\n{log}")

    return match.group(1)


def _payload(stderr: bytes) -> bytes:
    """The payload field of the response the CLI logs, in protobuf text escaping."""
    match = re.search(rb'payload:"((?:[^"\\]|\\.)*)"', stderr)
    return _unescape(match.group(1)) if match else b""


def _unescape(text: bytes) -> bytes:
    def replace(match: re.Match) -> bytes:
        octal, hexa, char = match.groups()
        if octal:
            return bytes([int(octal, 8)])
        if hexa:
            return bytes([int(hexa, 16)])
        return SIMPLE_ESCAPES.get(char, char)

    return ESCAPE_RE.sub(replace, text)

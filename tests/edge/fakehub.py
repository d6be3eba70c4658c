"""A small hub speaking docs/sync-protocol.md on a real loopback HTTP server.

It stands in for the hub in the edge's own tests; it verifies request and record
signatures with shared/ exactly as the real hub must, and stores the bytes it
receives so tests can compare them with what the tablet signed.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from typing import Self

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from shared import reqsign
from shared.keys import DeviceKey, device_id_for, verify
from shared.record import GENESIS, canonical, device_time, parse
from shared.wire import decode_batch


class FakeHub:
    """State of the hub; tests read and steer it."""

    def __init__(self):
        self.key = DeviceKey.from_seed(b"\x42" * 32)
        self.tokens = {"good-token"}
        self.devices: dict[str, tuple[bytes, str]] = {}
        self.stored: dict[tuple[str, int], tuple[bytes, bytes]] = {}
        self.attachments: dict[str, bytes] = {}
        self.reject_seqs: set[int] = set()
        self.revoked: set[str] = set()
        self.forge_receipt = False
        self.farmers = [{"id": "HUB-F-1", "name": "Kouame Yao", "village": "Buyo"}]
        self.url = ""

    def enroll_device(self, key: DeviceKey, kind: str = "tablet") -> None:
        self.devices[key.device_id] = (key.public_raw, kind)

    def app(self) -> Flask:
        app = Flask("fakehub")
        app.add_url_rule(
            "/api/v1/devices/enroll", view_func=self.enroll, methods=["POST"]
        )
        app.add_url_rule("/api/v1/sync/reference", view_func=self.reference)
        app.add_url_rule(
            "/api/v1/sync/batches", view_func=self.batches, methods=["POST"]
        )
        app.add_url_rule(
            "/api/v1/sync/attachments/<sha>",
            view_func=self.attachment,
            methods=["HEAD", "PUT"],
        )
        return app

    def enroll(self):
        doc = request.get_json()
        if doc["token"] not in self.tokens:
            return _problem(403, "enrollment-token-invalid")
        self.tokens.discard(doc["token"])
        public = base64.b64decode(doc["public_key"])
        self.devices[device_id_for(public)] = (public, doc["kind"])
        answer = {
            "device_id": device_id_for(public),
            "org": "coop-demo",
            "role": "cooperative",
            "hub_key": base64.b64encode(self.key.public_raw).decode(),
            "hub_url": self.url,
        }
        return jsonify(answer), 201

    def _caller(self):
        signed = reqsign.parse_authorization(request.headers.get("Authorization"))
        if signed is None or signed.device not in self.devices:
            return None
        query = request.query_string.decode()
        path = request.path + (f"?{query}" if query else "")
        public, _kind = self.devices[signed.device]
        ok = signed.fresh() and signed.verifies(
            public, request.method, path, request.get_data()
        )
        return signed.device if ok else None

    def reference(self):
        if self._caller() is None:
            return _problem(401, "device-unknown")
        devices = [
            {
                "id": d,
                "public_key": base64.b64encode(k).decode(),
                "kind": kind,
                "status": "revoked" if d in self.revoked else "active",
            }
            for d, (k, kind) in self.devices.items()
        ]
        return jsonify(
            farmers=self.farmers, plots=[], lots=[], devices=devices, cursor="c1"
        )

    def batches(self):
        if self._caller() is None:
            return _problem(401, "device-unknown")
        frame = request.get_data()
        results = []
        for segment in decode_batch(frame):
            for offset, record in enumerate(segment.records):
                results.append(self._store(segment.first_seq + offset, record))
        high_water = {}
        for device in {r["device"] for r in results}:
            seq = 0
            while (device, seq + 1) in self.stored:
                seq += 1
            if seq:
                high_water[device] = {
                    "seq": seq,
                    "id": _id(self.stored[(device, seq)][0]),
                }
        payload = canonical(
            {
                "batch": uuid.uuid4().hex,
                "frame_sha256": hashlib.sha256(frame).hexdigest(),
                "high_water": high_water,
                "hub": "fake-hub",
                "time": device_time(),
                "verdicts": [
                    {k: r.get(k) for k in ("code", "device", "id", "seq", "status")}
                    for r in results
                    if r["status"] in ("rejected", "quarantined")
                ],
            }
        )
        signer = DeviceKey.generate() if self.forge_receipt else self.key
        receipt = {
            "payload": base64.b64encode(payload).decode(),
            "signature": base64.b64encode(signer.sign(payload)).decode(),
        }
        return jsonify(
            batch="b", results=results, high_water=high_water, receipt=receipt
        )

    def _store(self, seq, record) -> dict:
        header = parse(record.raw)
        result = {"device": header.device, "seq": seq, "id": record.id}
        public, _kind = self.devices.get(header.device, (b"", ""))
        if seq in self.reject_seqs:
            return result | {
                "status": "rejected",
                "code": "chain-broken",
                "detail": "test",
            }
        if not verify(public, record.signature, record.raw):
            return result | {
                "status": "rejected",
                "code": "bad-signature",
                "detail": "no",
            }
        before = self.stored.get((header.device, seq - 1))
        expected_prev = _id(before[0]) if before else GENESIS
        if seq > 1 and before is None:
            return result | {"status": "rejected", "code": "chain-gap", "detail": "gap"}
        if header.prev != expected_prev:
            return result | {
                "status": "rejected",
                "code": "chain-broken",
                "detail": "prev",
            }
        if (header.device, seq) in self.stored:
            return result | {"status": "duplicate"}
        self.stored[(header.device, seq)] = (record.raw, record.signature)
        return result | {"status": "accepted"}

    def attachment(self, sha):
        if self._caller() is None:
            return _problem(401, "device-unknown")
        if request.method == "HEAD":
            return Response(status=200 if sha in self.attachments else 404)
        data = request.get_data()
        if hashlib.sha256(data).hexdigest() != sha:
            return _problem(422, "attachment-hash-mismatch")
        self.attachments[sha] = data
        return Response(status=201)


def _id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _problem(status: int, code: str):
    response = jsonify(
        type=f"https://cocoa-trace.org/problems/{code}",
        status=status,
        code=code,
        title=code,
        detail=code,
    )
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


class ServerThread:
    """A WSGI app on a real loopback port, served from a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

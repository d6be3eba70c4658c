"""Gateway mode: serve the sync API to the tablets of this edge's organisation.

A gateway checks each request's device signature against keys learned from the
hub's reference data, verifies every record's own signature, and keeps the
records verbatim in the relay table: never re-signed, never re-serialised. It
acks them with its own signed receipt and forwards them upstream unchanged in
its own sync, so the hub still verifies the tablet's original signature.

Its receipt says only that it holds the records: a tablet keeps them `relayed`.
Each answer, and `GET /sync/custody`, passes on the hub's signed receipts and
verdicts the gateway has learned for the tablet's records, so the tablet can
settle them as acknowledged, rejected or quarantined on the hub's word. Those
receipts sign each verdict's code, so a gateway can withhold a verdict (the
record stays relayed) but cannot alter or invent one.

A gateway that first hears of a tablet mid-chain (its earlier records went to
the hub directly) takes the first record it receives as that tablet's base and
cannot check the link before it; the hub, which holds the whole chain, does.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import func, select

from edge import projections
from edge.context import EdgeContext
from edge.errors import NotAGateway, NotFound, RequestAuthFailed, RequestExpired
from edge.models import (
    Attachment,
    Farmer,
    Lot,
    Organisation,
    PeerDevice,
    Plot,
    Receipt,
    RecordState,
    RelayRecord,
)
from shared import reqsign
from shared.errors import CocoaError, MalformedRecord, SchemaInvalid
from shared.keys import verify
from shared.record import canonical, device_time, parse
from shared.validation import validate_body
from shared.wire import decode_batch

log = logging.getLogger(__name__)
bp = Blueprint("gateway", __name__, url_prefix="/api/v1")


class DeviceRevoked(CocoaError):
    status = 403
    code = "device-revoked"
    title = "This device is revoked"


class AttachmentHashMismatch(CocoaError):
    status = 422
    code = "attachment-hash-mismatch"
    title = "The file does not match its SHA-256"


def edge() -> EdgeContext:
    return current_app.extensions["cocoa_edge"]


@bp.before_request
def only_gateways() -> None:
    if not edge().is_gateway:
        raise NotAGateway("this edge is a tablet; sync with the hub or a gateway")


def authenticate(session) -> PeerDevice:
    """The peer device that signed this request, or a 401/403 problem."""
    signed = reqsign.parse_authorization(request.headers.get("Authorization"))
    if signed is None:
        raise RequestAuthFailed("the request carries no CocoaDevice signature")
    peer = session.get(PeerDevice, signed.device)
    if peer is None:
        raise RequestAuthFailed(f"device {signed.device} is not known to this gateway")
    if peer.revoked:
        raise DeviceRevoked(f"device {signed.device} is revoked")
    if not signed.fresh():
        raise RequestExpired("the request's ts is more than 24 hours from this clock")
    query = request.query_string.decode()
    path = request.path + (f"?{query}" if query else "")
    if not signed.verifies(peer.public_key, request.method, path, request.get_data()):
        raise RequestAuthFailed("the request signature does not verify")
    return peer


@bp.post("/sync/batches")
def ingest():
    frame = request.get_data()
    segments = decode_batch(frame)
    ctx = edge()
    with ctx.transaction() as session:
        peer = authenticate(session)
        results = []
        for segment in segments:
            for offset, record in enumerate(segment.records):
                result = _ingest(
                    session, segment.device, segment.first_seq + offset, record
                )
                results.append(result)
        devices = sorted({s.device for s in segments})
        high_water = {d: mark for d in devices if (mark := _high_water(session, d))}
        hub = hub_word(session, devices)
    receipt = _receipt(ctx, frame, high_water)
    log.info(
        "relay.batch",
        extra={"device_id": peer.id, "records": len(results), "batch": receipt[0]},
    )
    return jsonify(
        batch=receipt[0],
        results=results,
        high_water=high_water,
        receipt=receipt[1],
        hub=hub,
    )


@bp.get("/sync/custody")
def custody():
    """What this gateway holds for the calling device and what the hub said of it."""
    with edge().transaction() as session:
        peer = authenticate(session)
        answer = {
            "device": peer.id,
            "high_water": _high_water(session, peer.id),
            "hub": hub_word(session, [peer.id]),
        }
    return jsonify(answer)


def hub_word(session, devices: list[str]) -> dict:
    """The hub's receipts and verdicts this gateway holds for `devices`' records.

    One receipt per device proves the hub's high water (the batch that settled
    its highest acknowledged record); each verdict names the batch it came in,
    whose receipt comes too. Every verdict is sent each time: they are rare, and
    a tablet that missed an answer still learns them. Only receipts the hub
    signed are kept for this, so a gateway whose upstream is another gateway has
    none to pass on and its tablets' records stay relayed.
    """
    batches = set()
    for device in devices:
        top = session.scalars(
            select(RelayRecord.upstream_batch)
            .where(
                RelayRecord.device == device,
                RelayRecord.state == RecordState.ACKNOWLEDGED,
                RelayRecord.upstream_batch.is_not(None),
            )
            .order_by(RelayRecord.seq.desc())
            .limit(1)
        ).first()
        batches.add(top)

    ruled = session.scalars(
        select(RelayRecord).where(
            RelayRecord.device.in_(devices),
            RelayRecord.state.in_((RecordState.REJECTED, RecordState.QUARANTINED)),
            RelayRecord.upstream_batch.is_not(None),
        )
    ).all()
    batches.update(row.upstream_batch for row in ruled)
    receipts = session.scalars(
        select(Receipt).where(
            Receipt.batch.in_(batches - {None}), Receipt.signer == "hub"
        )
    )
    return {
        "receipts": [_b64_pair(r.payload, r.signature) for r in receipts],
        "verdicts": [_verdict(row) for row in ruled],
    }


def _verdict(row: RelayRecord) -> dict:
    return {
        "device": row.device,
        "seq": row.seq,
        "id": row.id,
        "status": row.state.value,
        "code": row.state_code,
        "detail": row.state_detail,
        "batch": row.upstream_batch,
    }


def _b64_pair(payload: bytes, signature: bytes) -> dict:
    return {
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(signature).decode(),
    }


def _ingest(session, segment_device: str, seq: int, record) -> dict:
    result = {"device": segment_device, "seq": seq, "id": record.id}
    try:
        header = parse(record.raw)
    except MalformedRecord as exc:
        return _refuse(result, "malformed-record", exc.detail)

    if header.device != segment_device:
        return _refuse(result, "device-mismatch", f"the record is {header.device}'s")
    if header.seq != seq:
        return _refuse(result, "malformed-record", f"record says seq {header.seq}")
    peer = session.get(PeerDevice, header.device)
    if peer is None or peer.revoked:
        code = "device-unknown" if peer is None else "device-revoked"
        return _refuse(result, code, f"device {header.device} cannot send records here")
    if not verify(peer.public_key, record.signature, record.raw):
        return _refuse(result, "bad-signature", "signature does not verify")

    chain = _chain_problem(session, header, record.id)
    if chain == "duplicate":
        result["status"] = "duplicate"
        return result
    if chain:
        return _refuse(result, *chain)

    try:
        validate_body(header.type, header.body)
        result["status"] = "accepted"
    except SchemaInvalid as exc:
        result.update(status="quarantined", code=exc.code, detail=exc.detail)

    session.add(
        RelayRecord(
            device=header.device,
            seq=seq,
            id=record.id,
            raw=record.raw,
            signature=record.signature,
        )
    )
    if result["status"] == "accepted":
        projections.apply_relayed(session, header.type, header.body, record.id)
    return result


def _chain_problem(session, header, record_id: str):
    stored = session.get(RelayRecord, (header.device, header.seq))
    if stored is not None:
        if stored.id == record_id:
            return "duplicate"
        return ("chain-fork", f"seq {header.seq} is stored with other bytes")

    before = session.get(RelayRecord, (header.device, header.seq - 1))
    if before is not None:
        if before.id != header.prev:
            return ("chain-broken", f"prev is not the id of seq {header.seq - 1}")
        return None

    top = session.scalar(
        select(func.max(RelayRecord.seq)).where(RelayRecord.device == header.device)
    )
    if top is not None and top < header.seq:
        return (
            "chain-gap",
            f"this gateway holds up to seq {top}; send {top + 1} first",
        )
    return None


def _refuse(result: dict, code: str, detail: str) -> dict:
    result.update(status="rejected", code=code, detail=detail)
    return result


def _high_water(session, device: str) -> dict | None:
    query = (
        select(RelayRecord)
        .where(RelayRecord.device == device)
        .order_by(RelayRecord.seq.desc())
        .limit(1)
    )
    top = session.scalars(query).first()
    return {"seq": top.seq, "id": top.id} if top else None


def _receipt(ctx: EdgeContext, frame: bytes, high_water: dict) -> tuple[str, dict]:
    batch = uuid.uuid4().hex
    payload = canonical(
        {
            "batch": batch,
            "frame_sha256": hashlib.sha256(frame).hexdigest(),
            "high_water": high_water,
            "hub": ctx.key.device_id,
            "time": device_time(),
        }
    )
    return batch, _b64_pair(payload, ctx.key.sign(payload))


@bp.get("/sync/reference")
def reference():
    """Farmers, plots, open lots and devices changed after `since`, for tablets."""
    with edge().transaction() as session:
        authenticate(session)
        since = _cursor(request.args.get("since"))
        cursor = projections.current_rev(session)
        answer = {
            "farmers": [
                {"id": f.id, "name": f.name, "village": f.village}
                for f in _changed(session, Farmer, since)
            ],
            "plots": [
                {
                    "id": p.id,
                    "farmer": p.farmer,
                    "geometry": p.geometry,
                    "area_ha": p.area_ha,
                    "declared_area_ha": p.declared_area_ha,
                }
                for p in _changed(session, Plot, since)
            ],
            "lots": [
                {
                    "id": lot.id,
                    "mass_g": lot.mass_g,
                    "remaining_g": lot.remaining_g,
                    "dispatched_to": lot.dispatched_to,
                }
                for lot in _changed(session, Lot, since)
            ],
            "devices": [
                {
                    "id": d.id,
                    "public_key": base64.b64encode(d.public_key).decode(),
                    "kind": d.kind,
                    "revoked": d.revoked,
                }
                for d in _changed(session, PeerDevice, since)
            ],
            "organisations": [
                {"slug": o.slug, "name": o.name, "kind": o.kind}
                for o in _changed(session, Organisation, since)
            ],
            "cursor": str(cursor),
        }
    return jsonify(answer)


def _cursor(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _changed(session, model, since: int):
    return session.scalars(select(model).where(model.rev > since).order_by(model.rev))


@bp.route("/sync/attachments/<sha256>", methods=["HEAD", "PUT"])
def attachment(sha256: str):
    ctx = edge()
    with ctx.transaction() as session:
        authenticate(session)
        known = session.get(Attachment, sha256)
        if request.method == "HEAD":
            if known is None:
                raise NotFound(f"no attachment {sha256}")
            return Response(status=200)

        data = request.get_data()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise AttachmentHashMismatch(
                "the uploaded bytes do not hash to the URL's SHA-256"
            )
        ctx.config.attachments_dir.mkdir(parents=True, exist_ok=True)
        (ctx.config.attachments_dir / sha256).write_bytes(data)
        if known is None:
            session.add(
                Attachment(
                    sha256=sha256,
                    name=sha256,
                    media_type=request.mimetype or "application/octet-stream",
                    size=len(data),
                )
            )
    return Response(status=201)


@bp.post("/devices/enroll")
def enroll_proxy():
    """Pass a tablet's enrollment on to the hub, and name this gateway as its upstream."""
    ctx = edge()
    with ctx.transaction() as session:
        hub_url = ctx.require_enrollment(session).hub_url
    timeouts = (ctx.config.connect_timeout_s, ctx.config.read_timeout_s)
    # Loaded here, not at start: ~5 MB resident that only a relayed enrollment needs.
    import requests

    try:
        upstream = requests.post(
            hub_url + "/api/v1/devices/enroll",
            json=request.get_json(),
            timeout=timeouts,
        )
    except requests.RequestException as exc:
        raise GatewayOffline(f"the hub cannot be reached to enroll: {exc}") from None

    answer = upstream.json()
    if upstream.status_code == 201:
        answer["hub_url"] = request.host_url.rstrip("/")
    response = jsonify(answer)
    response.status_code = upstream.status_code
    return response


class GatewayOffline(CocoaError):
    status = 503
    code = "gateway-offline"
    title = "The gateway cannot reach the hub"

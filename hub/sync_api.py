"""The device-facing sync API of docs/sync-protocol.md, under /api/v1."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, current_app, request

from hub import db, enrollment, reference
from hub.device_auth import authenticate
from hub.errors import AttachmentHashMismatch, InvalidInput
from hub.models import Attachment, Device, utcnow
from shared.wire import MEDIA_TYPE

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1")


def _ext(name: str):
    return current_app.extensions[f"cocoa_{name}"]


def public_base() -> str:
    """The hub's address for devices and packs: the configured one, else this request's."""
    return (_ext("config").public_url or request.url_root).rstrip("/")


def _device() -> Device:
    """The device that signed this request; the read ends before any work."""
    path = request.path + (
        f"?{request.query_string.decode()}" if request.query_string else ""
    )
    session = db.session()
    device = authenticate(
        session,
        request.headers.get("Authorization"),
        (request.method, path),
        request.get_data(cache=True),
        _ext("config").request_max_skew_s,
    )
    session.rollback()
    return device


@bp.post("/devices/enroll")
def enroll():
    doc = request.get_json(silent=True) or {}
    session = db.session()
    device = enrollment.enroll(
        session,
        str(doc.get("token", "")),
        str(doc.get("public_key", "")),
        str(doc.get("label", ""))[:120],
        str(doc.get("kind", "tablet")),
    )
    answer = {
        "device_id": device.id,
        "org": device.org.slug,
        "role": device.role,
        "hub_key": base64.b64encode(_ext("keyring").hub_key.public_raw).decode(),
        "hub_url": public_base(),
    }
    session.commit()
    return answer, 201


@bp.post("/sync/batches")
def post_batch():
    if request.mimetype != MEDIA_TYPE:
        raise InvalidInput(f"send the batch as {MEDIA_TYPE}", where="Content-Type")

    sender = _device()
    with db.database().write_sessions() as session:
        outcome = _ext("ingestor").ingest(session, sender.id, request.get_data())
    _ext("pipeline").kick()
    return outcome.to_json()


@bp.get("/sync/reference")
def get_reference():
    device = _device()
    since = request.args.get("since", "0")
    if not since.isdigit():
        raise InvalidInput(
            "since must be a cursor this endpoint returned", where="since"
        )

    return reference.changes(db.session(), device.org_id, int(since))


@bp.route("/sync/attachments/<sha256>", methods=["HEAD"])
def head_attachment(sha256: str):
    _device()
    _check_hex(sha256)
    known = db.session().get(Attachment, sha256) is not None
    return ("", 200) if known and _ext("blobs").exists(sha256) else ("", 404)


@bp.put("/sync/attachments/<sha256>")
def put_attachment(sha256: str):
    device = _device()
    _check_hex(sha256)
    data = request.get_data()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise AttachmentHashMismatch(f"the body hashes to {actual}, not {sha256}")

    media_type = request.mimetype or "application/octet-stream"
    key = _ext("blobs").put(sha256, data, media_type)
    session = db.session()
    if session.get(Attachment, sha256) is None:
        session.add(
            Attachment(
                sha256=sha256,
                size=len(data),
                media_type=media_type,
                blob_key=key,
                uploaded_by=device.id,
                uploaded_at=utcnow(),
            )
        )
    session.commit()
    return {"sha256": sha256, "size": len(data)}, 201


def _check_hex(sha256: str) -> None:
    if len(sha256) != 64 or sha256.strip("0123456789abcdef"):
        raise InvalidInput("name the file by its lower-case hex sha256", where="sha256")

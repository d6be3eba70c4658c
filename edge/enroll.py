"""Enroll this device with a hub (or through a gateway) using a one-time token."""

from __future__ import annotations

import base64
import logging

import requests

from edge.context import EdgeContext
from edge.models import Enrollment
from shared.errors import CocoaError

log = logging.getLogger(__name__)
PATH = "/api/v1/devices/enroll"


class EnrollmentFailed(CocoaError):
    status = 502
    code = "enrollment-failed"
    title = "The hub did not enroll this device"


def enroll(ctx: EdgeContext, hub_url: str, token: str, kind: str) -> Enrollment:
    """POST the public key with the token; store the hub key, org and role."""
    payload = {
        "token": token,
        "public_key": base64.b64encode(ctx.key.public_raw).decode(),
        "label": ctx.label or ctx.key.device_id,
        "kind": kind,
    }
    timeouts = (ctx.config.connect_timeout_s, ctx.config.read_timeout_s)
    url = hub_url.rstrip("/") + PATH
    try:
        response = requests.post(url, json=payload, timeout=timeouts)
    except requests.RequestException as exc:
        raise EnrollmentFailed(f"cannot reach {url}: {exc}") from None

    if response.status_code != 201:
        raise EnrollmentFailed(
            _problem_text(response), upstream_status=response.status_code
        )
    answer = response.json()
    if answer.get("device_id") != ctx.key.device_id:
        raise EnrollmentFailed(
            f"the hub enrolled {answer.get('device_id')}, not this device "
            f"({ctx.key.device_id}); nothing was stored"
        )

    with ctx.transaction() as session:
        session.query(Enrollment).delete()
        enrollment = Enrollment(
            device_id=ctx.key.device_id,
            kind=kind,
            label=ctx.label,
            org=answer["org"],
            role=answer["role"],
            hub_url=(answer.get("hub_url") or hub_url).rstrip("/"),
            hub_key=base64.b64decode(answer["hub_key"]),
        )
        session.add(enrollment)
    log.info(
        "device.enrolled", extra={"device_id": ctx.key.device_id, "org": answer["org"]}
    )
    return enrollment


def _problem_text(response: requests.Response) -> str:
    try:
        problem = response.json()
        return (
            f"{problem.get('code', response.status_code)}: {problem.get('detail', '')}"
        )
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"

"""The hub over real HTTP semantics (Flask test client): sync, API, console."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from hub import auth, enrollment
from hub.app import create_app
from hub.db import database
from hub.device_auth import authorization
from hub.models import Organisation
from shared.wire import MEDIA_TYPE
from tests.hub.helpers import FARMER, Chain, coop_journey, frame

PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "home": tmp_path,
            "database_url": f"sqlite:///{tmp_path / 'hub.sqlite'}",
            "blobs": f"local:{tmp_path / 'blobs'}",
            "secret_key": "test secret",
            "testing": True,
        }
    )
    with app.app_context(), database().session() as session:
        coop = Organisation(
            slug="coop-soubre",
            name="Coop Soubré",
            kind="cooperative",
            location="Soubré",
        )
        factory = Organisation(
            slug="choco-abidjan", name="Choco Abidjan", kind="manufacturer"
        )
        shop = Organisation(slug="shop-plateau", name="Shop", kind="retailer")
        session.add_all([coop, factory, shop])
        session.flush()
        auth.create_user(session, "admin", PASSWORD, "admin", None)
        auth.create_user(session, "maker", PASSWORD, "manufacturer", factory)
        auth.create_user(session, "seller", PASSWORD, "retailer", shop)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def token_for(app, username):
    with app.app_context(), database().session() as session:
        from sqlalchemy import select

        from hub.models import User

        user = session.scalar(select(User).where(User.username == username))
        return auth.create_api_token(session, user, "test")


def enrolled(app, client, seed=1):
    with app.app_context(), database().session() as session:
        org = session.query(Organisation).filter_by(slug="coop-soubre").one()
        token = enrollment.create_token(session, org, "cooperative", enrollment_ttl())
    chain = Chain.seeded(seed)
    answer = client.post(
        "/api/v1/devices/enroll",
        json={
            "token": token,
            "public_key": base64.b64encode(chain.key.public_raw).decode(),
            "label": "tablet",
            "kind": "tablet",
        },
    )
    return chain, token, answer


def enrollment_ttl():
    from datetime import timedelta

    return timedelta(hours=1)


def signed(client, chain, method, path, body=b"", **headers):
    auth_header = authorization(chain.key, method, path, body)
    return client.open(
        path,
        method=method,
        data=body,
        headers={"Authorization": auth_header, **headers},
    )


def sync(client, chain):
    """Post all of `chain`'s records as one signed batch."""
    body = frame(chain.segment())
    path = "/api/v1/sync/batches"
    return signed(client, chain, "POST", path, body, **{"Content-Type": MEDIA_TYPE})


def test_enrollment_admits_the_device_once(app, client):
    chain, token, answer = enrolled(app, client)

    again = client.post(
        "/api/v1/devices/enroll",
        json={
            "token": token,
            "public_key": base64.b64encode(Chain.seeded(5).key.public_raw).decode(),
            "kind": "tablet",
        },
    )

    assert answer.status_code == 201
    assert answer.json["device_id"] == chain.device
    assert answer.json["org"] == "coop-soubre"
    assert again.status_code == 403
    assert again.json["code"] == "enrollment-token-invalid"
    assert again.mimetype == "application/problem+json"


def test_signed_batch_is_ingested_and_projected(app, client):
    chain, _, _ = enrolled(app, client)
    coop_journey(chain)
    body = frame(chain.segment())

    answer = signed(
        client,
        chain,
        "POST",
        "/api/v1/sync/batches",
        body,
        **{"Content-Type": MEDIA_TYPE},
    )
    reference = signed(client, chain, "GET", "/api/v1/sync/reference?since=0")

    assert answer.status_code == 200
    assert {r["status"] for r in answer.json["results"]} == {"accepted"}
    assert answer.json["high_water"][chain.device]["seq"] == 7
    assert [f["id"] for f in reference.json["farmers"]] == [FARMER["id"]]
    assert reference.json["lots"][0]["id"] == "LOT-1"
    assert int(reference.json["cursor"]) >= 7


def test_unsigned_or_unknown_requests_are_refused(app, client):
    stranger = Chain.seeded(9)

    unsigned = client.post(
        "/api/v1/sync/batches", data=b"x", headers={"Content-Type": MEDIA_TYPE}
    )
    unknown = signed(
        client,
        stranger,
        "POST",
        "/api/v1/sync/batches",
        b"x",
        **{"Content-Type": MEDIA_TYPE},
    )

    assert unsigned.status_code == 401
    assert unsigned.json["code"] == "request-signature-invalid"
    assert unknown.status_code == 401
    assert unknown.json["code"] == "device-unknown"


def test_revoked_device_request_is_refused(app, client):
    chain, _, _ = enrolled(app, client)
    with app.app_context(), database().session() as session:
        enrollment.revoke(session, chain.device, "lost")

    answer = signed(client, chain, "GET", "/api/v1/sync/reference?since=0")

    assert answer.status_code == 403
    assert answer.json["code"] == "device-revoked"


def test_malformed_frame_is_a_problem(app, client):
    chain, _, _ = enrolled(app, client)

    answer = signed(
        client,
        chain,
        "POST",
        "/api/v1/sync/batches",
        b"not zlib",
        **{"Content-Type": MEDIA_TYPE},
    )

    assert answer.status_code == 400
    assert answer.json["code"] == "malformed-batch"


def test_attachment_upload_is_hash_checked(app, client):
    chain, _, _ = enrolled(app, client)
    data = b"%PDF-1.4 delivery note"
    sha = hashlib.sha256(data).hexdigest()

    missing = signed(client, chain, "HEAD", f"/api/v1/sync/attachments/{sha}")
    wrong = signed(client, chain, "PUT", f"/api/v1/sync/attachments/{sha}", data + b"!")
    right = signed(
        client,
        chain,
        "PUT",
        f"/api/v1/sync/attachments/{sha}",
        data,
        **{"Content-Type": "application/pdf"},
    )
    present = signed(client, chain, "HEAD", f"/api/v1/sync/attachments/{sha}")

    assert missing.status_code == 404
    assert wrong.status_code == 422
    assert wrong.json["code"] == "attachment-hash-mismatch"
    assert right.status_code == 201
    assert present.status_code == 200


def test_api_events_follow_the_ingest_path_and_trace_back(app, client):
    chain, _, _ = enrolled(app, client)
    coop_journey(chain)
    # The ledger rules let only the lot's owner process it.
    chain.add("transfer", {"asset": "LOT-1", "to_org": "choco-abidjan"})
    sync(client, chain)
    maker = {"Authorization": f"Bearer {token_for(app, 'maker')}"}

    receipt = client.post(
        "/api/receipt",
        headers=maker,
        json={"shipment": "SHP-1", "lots": [{"lot": "LOT-1", "mass_g": 449000}]},
    )
    made = client.post(
        "/api/process",
        headers=maker,
        json={
            "id": "BAR-1",
            "product": "Dark 70 %",
            "units": 100,
            "inputs": [{"lot": "LOT-1", "mass_g": 100000}],
        },
    )
    product = client.get("/api/product/BAR-1", headers=maker)

    assert receipt.status_code == 201, receipt.json
    assert made.status_code == 201
    assert made.json["ledger"]["status"] == "committed"
    assert made.json["seq"] == 2
    assert product.json["cacao_batches"][0]["id"] == "LOT-1"
    assert product.json["farmers"][0]["id"] == FARMER["id"]
    assert "name" not in product.json["farmers"][0]
    assert [p["id"] for p in product.json["purchases"]] == ["P-1"]


def test_api_scopes_reads_to_the_callers_organisations(app, client):
    chain, _, _ = enrolled(app, client)
    coop_journey(chain)
    sync(client, chain)
    seller = {"Authorization": f"Bearer {token_for(app, 'seller')}"}
    admin = {"Authorization": f"Bearer {token_for(app, 'admin')}"}

    denied = client.get("/api/cacaobatch/LOT-1", headers=seller)
    allowed = client.get("/api/cacaobatch/LOT-1", headers=admin)
    anonymous = client.get("/api/cacaobatch/LOT-1")

    assert denied.status_code == 403
    assert allowed.status_code == 200
    assert allowed.json["farmers"][0]["name"] == FARMER["name"]
    assert anonymous.status_code == 401


def test_invalid_api_event_names_the_field(app, client):
    maker = {"Authorization": f"Bearer {token_for(app, 'maker')}"}

    answer = client.post(
        "/api/sale", headers=maker, json={"batch": "BAR-1", "units": 0}
    )

    assert answer.status_code == 400
    assert answer.json["code"] == "schema-invalid"
    assert answer.json["where"] == "body.units"


def login(client, username):
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf}
    )
    # The token is renewed at login; forms after it carry the new one.
    page = client.get("/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_console_forms_need_the_csrf_token(app, client):
    client.get("/login")

    answer = client.post("/login", data={"username": "admin", "password": PASSWORD})

    assert answer.status_code == 400
    assert "csrf-failed" in answer.text


def test_console_trace_escapes_names_and_public_page_hides_them(app, client):
    chain, _, _ = enrolled(app, client)
    coop_journey(chain)
    chain.add("transfer", {"asset": "LOT-1", "to_org": "choco-abidjan"})
    # A second farmer record with the same id must say which record it corrects.
    renamed = {"name": "<script>alert(1)</script> N'Guessan"}
    chain.add("farmer", dict(FARMER, corrects=chain.records[0].id, **renamed))
    sync(client, chain)
    maker = {"Authorization": f"Bearer {token_for(app, 'maker')}"}
    client.post(
        "/api/receipt",
        headers=maker,
        json={"shipment": "SHP-1", "lots": [{"lot": "LOT-1", "mass_g": 449000}]},
    )
    client.post(
        "/api/process",
        headers=maker,
        json={
            "id": "BAR-1",
            "product": "Dark <b>70</b>",
            "units": 100,
            "inputs": [{"lot": "LOT-1", "mass_g": 100000}],
        },
    )
    login(client, "admin")

    page = client.get("/lots/LOT-1")
    public = app.test_client().get("/t/BAR-1")

    assert page.status_code == 200
    assert "<polygon" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; N&#39;Guessan" in page.text
    assert "<script>alert" not in page.text
    assert public.status_code == 200
    assert "Dark &lt;b&gt;70&lt;/b&gt;" in public.text
    assert "Guessan" not in public.text
    assert "Méagui" in public.text
    assert "+225" not in public.text


def test_admin_creates_enrollment_tokens_in_the_console(app, client):
    csrf = login(client, "admin")

    page = client.post(
        "/admin/enrollment",
        data={
            "org": "coop-soubre",
            "role": "cooperative",
            "ttl_hours": "2",
            "csrf_token": csrf,
        },
    )
    token = re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)
    chain = Chain.seeded(4)
    answer = client.post(
        "/api/v1/devices/enroll",
        json={
            "token": token,
            "public_key": base64.b64encode(chain.key.public_raw).decode(),
        },
    )

    assert answer.status_code == 201


def test_dashboard_shows_device_health(app, client):
    chain, _, _ = enrolled(app, client)
    chain.harvests(2)
    sync(client, chain)
    login(client, "admin")

    page = client.get("/")

    assert chain.device in page.text
    assert "harvest" in page.text


def test_reference_tells_gateways_which_devices_are_revoked(app, client):
    gateway, _, _ = enrolled(app, client, seed=1)
    lost, _, _ = enrolled(app, client, seed=2)
    with app.app_context(), database().session() as session:
        enrollment.revoke(session, lost.device, "tablet stolen")

    answer = signed(client, gateway, "GET", "/api/v1/sync/reference?since=0")

    rows = {d["id"]: d for d in answer.json["devices"]}
    assert answer.status_code == 200
    assert rows[lost.device]["revoked"] is True
    assert rows[lost.device]["status"] == "revoked"
    assert rows[gateway.device]["revoked"] is False
    assert rows[gateway.device]["status"] == "enrolled"

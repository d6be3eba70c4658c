"""Every route of the hub refuses strangers: anonymous callers and unrelated orgs.

The walk covers `app.url_map`, so a route added without a check fails here until it
checks its caller or is listed below as public, with the reason.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub import auth
from hub.db import database
from hub.models import Organisation, Purchase, Supplier
from shared.units import kg
from shared.wire import MEDIA_TYPE
from tests.hub.console_app import PASSWORD, Tags, login, seeded_hub

# Endpoint -> why anyone may call it.
PUBLIC = {
    "static": "stylesheets",
    "health.healthz": "the load balancer's liveness probe",
    "console.login": "the way in",
    "console.logout": "ends the session it is sent with, if any",
    "console.public_trace": "the consumer page, built from the public story only",
    "sync_api.enroll": "the single-use enrollment token in the body is the credential",
}
# Endpoint -> why its URL argument does not name another organisation's object.
NOT_OWNED = {
    "api.post_event": "<kind> is an event type; the body is checked per organisation",
    # Files are named by the sha256 of their bytes: to ask for one a device must
    # already hold the bytes, so answering reveals only that they were uploaded.
    "sync_api.head_attachment": "content-addressed",
    "sync_api.put_attachment": "content-addressed; the hash is of the body sent",
}
SHA = "ab" * 32


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The seeded hub, with a user of each kind of organisation and one stranger."""
    app, data = seeded_hub(tmp_path_factory)
    with app.app_context(), database().session() as session:
        orgs = {o.slug: o for o in session.scalars(select(Organisation))}
        stranger = Organisation(slug="shop-far", name="Far Shop", kind="retailer")
        session.add(stranger)
        session.flush()
        auth.create_user(
            session, "meagui", PASSWORD, "cooperative", orgs["coop-meagui"]
        )
        auth.create_user(
            session, "maker", PASSWORD, "manufacturer", orgs["choco-abidjan"]
        )
        auth.create_user(session, "stranger", PASSWORD, "retailer", stranger)
        supplier = session.scalar(
            select(Supplier).where(Supplier.org_id == orgs["coop-soubre"].id)
        )
        ids = {
            "product_id": "BAR-2026-042",
            "lot_id": "LOT-SOU-1",
            "supplier_id": supplier.id,
            "kind": "process",
            "sha256": SHA,
            "filename": "console.css",
        }
    return app, data, ids


def _routes(app):
    """(endpoint, method, path) for every rule; HEAD only where there is no GET."""
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"OPTIONS"}
        if "GET" in methods:
            methods -= {"HEAD"}
        for method in sorted(methods):
            yield rule, method


def _url(app, rule, ids: dict) -> str:
    with app.test_request_context():
        return app.url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments})


def _call(client, method: str, url: str, csrf: str):
    """A well-formed request, so only the caller's identity can make it fail."""
    if url.startswith("/api/v1/"):
        return client.open(
            url, method=method, data=b"x", headers={"Content-Type": MEDIA_TYPE}
        )
    if url.startswith("/api/"):
        return client.open(url, method=method, json={})
    return client.open(url, method=method, data={"csrf_token": csrf})


def _csrf(client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_every_route_is_public_by_choice_or_refuses_anonymous_callers(hub):
    app, _, ids = hub
    client = app.test_client()
    csrf = _csrf(client)
    checked, let_in = [], []

    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC:
            continue
        answer = _call(client, method, _url(app, rule, ids), csrf)
        checked.append(rule.endpoint)
        to_login = answer.status_code == 302 and answer.location.endswith("/login")
        if answer.status_code != 401 and not to_login:
            let_in.append((method, rule.rule, answer.status_code))

    assert let_in == []
    assert {"console.dashboard", "api.get_product", "sync_api.post_batch"} <= set(
        checked
    )
    assert set(PUBLIC) <= {r.endpoint for r in app.url_map.iter_rules()}


def test_every_route_naming_an_object_refuses_an_unrelated_organisation(hub):
    app, _, ids = hub
    client = app.test_client()
    csrf = login(client, "stranger")
    refused, let_in = [], []

    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC or rule.endpoint in NOT_OWNED:
            continue
        if not rule.arguments:
            continue
        answer = _call(client, method, _url(app, rule, ids), csrf)
        if answer.status_code in (403, 404):
            refused.append(rule.endpoint)
        else:
            let_in.append((method, rule.rule, answer.status_code))

    assert let_in == []
    assert {"console.product", "console.lot", "console.supplier"} <= set(refused)
    assert {"api.get_product", "api.get_cacao_batch"} <= set(refused)


def test_the_same_objects_open_for_the_organisations_that_work_with_them(hub):
    app, _, ids = hub
    maker = app.test_client()
    login(maker, "maker")
    meagui = app.test_client()
    login(meagui, "meagui")

    answers = {
        "maker product": maker.get(f"/products/{ids['product_id']}").status_code,
        "maker supplier": maker.get(f"/suppliers/{ids['supplier_id']}").status_code,
        "maker lot api": maker.get(f"/api/cacaobatch/{ids['lot_id']}").status_code,
        "meagui own product": meagui.get("/api/product/BAR-2026-041").status_code,
        "meagui other coop": meagui.get(f"/lots/{ids['lot_id']}").status_code,
    }

    assert answers == {
        "maker product": 200,
        "maker supplier": 200,
        "maker lot api": 200,
        "meagui own product": 200,
        "meagui other coop": 403,
    }


def test_dashboard_of_a_cooperative_shows_its_own_devices_and_volumes(hub):
    app, data, _ = hub
    with app.app_context(), database().session() as session:
        own = session.scalars(
            select(Purchase.mass_g)
            .join(Organisation, Organisation.id == Purchase.org_id)
            .where(Organisation.slug == "coop-meagui")
        ).all()
    client = app.test_client()
    login(client, "meagui")

    page = client.get("/")
    tags = Tags(page.text)

    devices = re.findall(r'<tr class="health-\w+"><td><code>([^<]+)</code>', page.text)
    total = next(t for t in tags.titles if "purchased per week" in t)
    assert devices == [data.tablets["coop-meagui"].device]
    assert f"{kg(sum(own))} in all" in total
    assert "LOT-MEA-1" in page.text and "LOT-SOU-1" not in page.text
    assert "BAR-2026-041" in page.text and "BAR-2026-042" not in page.text
    assert 'href="/review' not in page.text


def test_dashboard_of_a_manufacturer_shows_no_cooperative_device(hub):
    app, data, _ = hub
    client = app.test_client()
    login(client, "maker")

    page = client.get("/")

    devices = re.findall(r'<tr class="health-\w+"><td><code>([^<]+)</code>', page.text)
    assert devices == [data.factory.device]
    for tablet in data.tablets.values():
        assert tablet.device not in page.text
    assert "BAR-2026-041" in page.text and "BAR-2026-042" in page.text


def test_dashboard_of_an_unrelated_organisation_is_empty(hub):
    app, data, _ = hub
    client = app.test_client()
    login(client, "stranger")

    page = client.get("/")

    assert page.status_code == 200
    assert "No purchase has been synced yet." in page.text
    assert "LOT-" not in page.text and "BAR-2026" not in page.text
    for signer in [*data.tablets.values(), data.factory]:
        assert signer.device not in page.text

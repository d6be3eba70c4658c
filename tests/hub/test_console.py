"""The console pages with a season of data: graphs, maps and charts carry the figures."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hub import auth
from shared import units
from hub.db import database
from hub.models import Device, Organisation, Supplier, utcnow
from tests.hub.console_app import PASSWORD, Tags, login, seeded_hub, sync


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return seeded_hub(tmp_path_factory)


def test_product_page_draws_the_journey_graph_with_masses(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    page = client.get("/products/BAR-2026-041")
    tags = Tags(page.text)

    nodes = [a["data-key"] for a in tags.find("g", **{"class": "node"})]
    assert page.status_code == 200
    assert "product:BAR-2026-041" in nodes
    assert {"lot:LOT-SOU-1", "lot:LOT-MEA-1"} <= set(nodes)
    assert {"shipment:SHP-SOU", "shipment:SHP-MEA"} <= set(nodes)
    assert {"sale:S-1", "sale:S-2"} <= set(nodes)
    assert any(n.startswith("plot:CI-SOU-") for n in nodes)
    assert tags.find("a", href="/lots/LOT-SOU-1")
    # Sales carry units, and the edges from the shipments carry the kg used.
    assert "1,200 units" in page.text
    assert re.search(r"SHP-SOU → BAR-2026-041: [\d,.]+ kg", page.text)


def test_product_page_map_is_to_scale_and_coloured_by_cooperative(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    page = client.get("/products/BAR-2026-041")
    tags = Tags(page.text)

    plots = {a["data-plot"] for a in tags.find("g", **{"class": "plot"})}
    fills = {a["fill"] for a in tags.find("polygon")}
    assert len(plots) >= 8
    assert len(fills) == 2  # one colour per cooperative
    assert "Coloured by cooperative" in page.text
    assert re.search(r"scale bar \d+(\.\d+)? k?m", page.text)
    assert tags.find("g", **{"class": "north"})
    assert any(t.startswith("Map of ") for t in tags.titles)


def test_map_colours_by_certification_on_request(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    page = client.get("/products/BAR-2026-041?colour=certification")

    assert "Coloured by certification" in page.text
    assert "not certified" in page.text
    assert "Fairtrade" in page.text


def test_mass_balance_adds_up_for_each_lot(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    page = client.get("/lots/LOT-SOU-1")
    rows = re.findall(
        r'<td><a href="/lots/(LOT-[^"]+)">[^<]+</a></td><td>Coop Soubré</td>'
        r'<td class="num">([\d,.]+)</td>'
        r'<td class="num">([\d,.]+)</td><td class="num">([\d,.]+)</td>',
        page.text,
    )
    widths = re.findall(
        r'class="part-(\w+)" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', page.text
    )

    lot, kg_in, kg_used, kg_left = rows[0]
    kg = [float(v.replace(",", "")) for v in (kg_in, kg_used, kg_left)]
    parts = dict(widths)
    assert lot == "LOT-SOU-1"
    assert kg[1] == pytest.approx(kg[0] * 0.6, rel=0.01)
    assert kg[2] == pytest.approx(kg[0] * 0.99 - kg[1], rel=0.01)
    assert set(parts) == {"other", "lost", "left"}
    assert float(parts["other"]) > float(parts["left"]) > float(parts["lost"])


def test_every_event_shows_its_ledger_proof(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    page = client.get("/products/BAR-2026-041")
    ledger = page.text[page.text.index('id="events"') :]

    rows = ledger.count('<tr id="ev-')
    committed = re.findall(r'pill committed">committed</span> block (\d+)', ledger)
    assert rows > 10
    assert len(committed) == rows
    assert re.search(r"(\d+) / \1</strong>events committed", page.text)


def test_product_page_has_a_qr_code_of_the_public_address(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "admin")

    page = client.get("/products/BAR-2026-041")
    tags = Tags(page.text)

    assert "https://trace.example.org/t/BAR-2026-041" in page.text
    assert tags.find("svg", **{"class": "segno"})
    assert tags.find("path", **{"class": "qrline"})


def test_dashboard_charts_weekly_volumes_and_flags_stale_devices(seeded):
    app, data = seeded
    stale = data.tablets["coop-meagui"].device
    with app.app_context(), database().session() as session:
        session.execute(
            update(Device)
            .where(Device.id == stale)
            .values(last_seen_at=utcnow() - timedelta(days=20))
        )
    client = app.test_client()
    login(client, "admin")

    page = client.get("/")
    tags = Tags(page.text)

    weeks = tags.find("rect", **{"class": "week"})
    heights = [float(w["height"]) for w in weeks]
    assert 6 <= len(weeks) <= 9
    assert max(heights) > 0
    assert f'<tr class="health-silent"><td><code>{stale}</code>' in page.text
    fresh = data.tablets["coop-soubre"].device
    assert f'<tr class="health-ok"><td><code>{fresh}</code>' in page.text
    assert 'href="/review#quarantined"' in page.text
    assert any("Kilograms of cacao purchased per week" in t for t in tags.titles)


def test_public_page_tells_the_story_without_personal_data(seeded):
    app, _ = seeded
    anonymous = app.test_client()

    page = anonymous.get("/t/BAR-2026-041")
    text = page.text

    assert page.status_code == 200
    assert "Dark 70 % Soubré &amp; Méagui" in text
    assert "Coop Soubré" in text and "Coop Méagui" in text
    assert "Okrouyo" in text and "Méagui" in text
    # Soubré's lot is Fairtrade, Méagui's holds none: the bar may claim neither.
    assert "Fairtrade" not in text and "Rainforest Alliance" not in text
    assert "September 2026" in text or "October 2026" in text
    assert "Shipped to the chocolate maker" in text
    assert "recorded events of its journey are sealed" in text
    assert "Kouassi" not in text and "+225" not in text
    assert "CI-SOU-" not in text and "XOF" not in text and "Shop Plateau" not in text
    assert len(re.findall(r"<circle ", text)) == 2  # one coarse dot and its halo


def test_public_page_dot_is_rounded_to_a_tenth_of_a_degree(seeded):
    from hub import publicview

    plots = [{"geometry": {"type": "Point", "coordinates": [-6.6123, 5.7849]}}]
    rounded = [{"geometry": {"type": "Point", "coordinates": [-6.6, 5.8]}}]

    exact = publicview._region(plots).dot
    coarse = publicview._region(rounded).dot

    assert exact == coarse


def test_markup_in_names_is_escaped_inside_svg_text(seeded):
    app, data = seeded
    factory = data.factory
    first = len(factory.records) + 1
    when = datetime.fromisoformat(factory.records[-1].header().time)
    body = {
        "id": "BAR-X",
        "product": "<script>alert(1)</script> & Co",
        "units": 1,
        "inputs": [{"lot": "LOT-MEA-1", "mass_g": 1000}],
    }
    factory.add("processing", body, when)
    client = app.test_client()
    answer = sync(client, factory, first)
    login(client, "admin")

    lot = client.get("/lots/LOT-MEA-1")
    sub = re.search(
        r'<g class="node" data-key="product:BAR-X">.*?</g>', lot.text, re.DOTALL
    )

    assert answer.status_code == 200
    assert "<script>alert" not in lot.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in sub.group(0)


def test_console_forms_refuse_a_missing_csrf_token(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "admin")

    answer = client.post("/logout", data={})
    still_in = client.get("/")

    assert answer.status_code == 400
    assert "csrf-failed" in answer.text
    assert "Log out" in still_in.text


def test_org_scope_still_applies_to_console_pages(seeded):
    app, _ = seeded
    with app.app_context(), database().session() as session:
        shop = Organisation(slug="shop-x", name="Shop X", kind="retailer")
        session.add(shop)
        session.flush()
        auth.create_user(session, "seller", PASSWORD, "retailer", shop)
    client = app.test_client()
    login(client, "seller")

    answer = client.get("/products/BAR-2026-041")

    assert answer.status_code == 403
    with app.app_context(), database().session() as session:
        assert session.scalar(select(Organisation).where(Organisation.slug == "shop-x"))


def test_product_trace_has_its_lots_shipments_and_receipts_once_per_record(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    doc = client.get("/api/product/BAR-2026-041").json
    page = client.get("/products/BAR-2026-041").text

    kinds = [e["event"] for e in doc["events"]]
    processed = next(e for e in doc["events"] if e["event"] == "Processed")
    shipped = {e["record"] for e in doc["events"] if e["event"] == "Shipped"}
    assert kinds.count("Processed") == 1  # one record, two input lots
    assert processed["objects"] == ["BAR-2026-041"]
    assert kinds.count("Received") == 2 and len(shipped) == 2  # Soubré and Méagui
    assert "Bagged" in kinds and "Sold" in kinds
    assert len({(e["record"], e["event"]) for e in doc["events"]}) == len(kinds)
    assert len(doc["lot_events"]) > len(shipped)  # per lot, for the graph
    ledger = page[page.index('id="events"') :]
    assert "<td>Shipped</td>" in ledger and "<td>Received</td>" in ledger
    assert ledger.count("<td>Processed</td>") == 1


def test_product_page_names_the_supplier_of_each_cacao_batch(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "auditor")

    page = client.get("/products/BAR-2026-041").text

    rows = dict(
        re.findall(
            r'<td><a href="/lots/(LOT-[^"]+)">[^<]+</a></td><td>([^<]+)</td>', page
        )
    )
    assert rows == {"LOT-SOU-1": "Coop Soubré", "LOT-MEA-1": "Coop Méagui"}


@pytest.mark.parametrize(
    ("grams", "text"),
    [
        (1_650_000, "1,650 kg"),
        (12_500, "12.5 kg"),
        (400_000, "400 kg"),
        (1_650_040, "1,650 kg"),
        (0, "0 kg"),
    ],
)
def test_weights_read_as_kilograms_with_a_decimal_only_when_needed(grams, text):
    shown = units.kg(grams)

    assert shown == text


def test_no_page_shows_a_weight_with_a_trailing_zero_decimal(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "admin")
    with app.app_context(), database().session() as session:
        supplier = session.scalar(select(Supplier.id).limit(1))

    pages = {
        url: client.get(url).text
        for url in (
            "/",
            "/products/BAR-2026-041",
            "/lots/LOT-SOU-1",
            f"/suppliers/{supplier}",
        )
    }

    for url, text in pages.items():
        assert not re.search(r"\d\.0(?: kg|</td>|<)", text), url
    assert re.search(r"\d,\d{3}(?:\.[1-9])? kg", pages["/lots/LOT-SOU-1"])


def test_weekly_volumes_count_purchases_by_device_time_with_a_caveat(seeded):
    app, _ = seeded
    client = app.test_client()
    login(client, "admin")
    this_monday = date.today() - timedelta(days=date.today().weekday())

    page = client.get("/")
    tags = Tags(page.text)

    weeks = [t for t in tags.titles if t.startswith("week of ")]
    # The season's purchases were signed from 7 September 2026 on (a Monday), and
    # reached this hub today.
    assert weeks[0].startswith("week of 2026-09-07:")
    assert not any(t.startswith(f"week of {this_monday}") for t in weeks)
    assert "Device clocks are untrusted evidence" in page.text

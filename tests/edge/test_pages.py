import re

import pytest
from sqlalchemy import select

from edge.app import create_app
from edge.models import Farmer, JournalRecord, Lot
from edge.pages import MAX_FLASHES

MARKUP = '<script>alert("x")</script> Kone'


@pytest.fixture
def client(ctx):
    app = create_app(ctx.config)
    yield app.test_client()
    app.extensions["cocoa_edge"].engine.dispose()


def csrf_token(client, url="/farmers/new"):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_form_without_csrf_token_is_refused_and_signs_nothing(client, ctx):
    client.get("/farmers/new")

    response = client.post("/farmers/new", data={"id": "F-1", "name": "Ama"})

    with ctx.transaction() as session:
        assert session.scalars(select(JournalRecord)).first() is None
    assert response.status_code == 400
    assert "csrf-failed" in response.get_data(as_text=True)


def test_form_with_a_forged_token_is_refused(client):
    csrf_token(client)

    response = client.post(
        "/farmers/new", data={"csrf_token": "forged", "id": "F-1", "name": "Ama"}
    )

    assert response.status_code == 400


def test_success_is_reported_after_the_record_is_committed(client, ctx):
    token = csrf_token(client)

    response = client.post(
        "/farmers/new", data={"csrf_token": token, "id": "F-1", "name": "Ama"}
    )

    with ctx.transaction() as session:
        farmer = session.get(Farmer, "F-1")
        record = session.get(JournalRecord, 1)
    assert response.status_code == 302
    assert farmer.record_id == record.id
    assert "Saved and signed" in client.get("/").get_data(as_text=True)


def test_markup_in_a_name_is_shown_as_text(client, ctx):
    ctx.append("farmer", {"id": "CI-SOU-0011", "name": MARKUP})

    page = client.get("/purchases/new").get_data(as_text=True)

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Kone" in page


def test_bad_field_keeps_what_was_typed_and_names_the_field(
    client, ctx, farmer_and_plot
):
    token = csrf_token(client, "/purchases/new")
    form = {
        "csrf_token": token,
        "farmer": "F-1",
        "plot": "F-1-P1",
        "kg": "12,5kg",
        "grade": "grade-1",
        "price": "150000",
        "currency": "XOF",
    }

    response = client.post("/purchases/new", data=form)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is not a number" in page
    assert 'value="12,5kg"' in page
    assert 'value="150000"' in page
    with ctx.transaction() as session:
        assert session.scalars(select(JournalRecord)).all()[-1].type == "plot"


def test_kilograms_with_a_comma_become_grams(client, ctx, farmer_and_plot):
    token = csrf_token(client, "/purchases/new")
    form = {
        "csrf_token": token,
        "farmer": "F-1",
        "plot": "F-1-P1",
        "kg": "12,5",
        "grade": "grade-1",
        "price": "150000",
        "currency": "xof",
    }

    client.post("/purchases/new", data=form)

    with ctx.transaction() as session:
        last = session.scalars(
            select(JournalRecord).order_by(JournalRecord.seq.desc())
        ).first()
    assert b'"mass_g":12500' in last.raw
    assert b'"currency":"XOF"' in last.raw


def test_lot_over_the_remaining_mass_is_refused_on_its_field(
    client, ctx, farmer_and_plot
):
    row = ctx.append(
        "purchase",
        {
            "farmer": "F-1",
            "plot": "F-1-P1",
            "mass_g": 5000,
            "grade": "grade-1",
            "price": 1,
            "currency": "XOF",
        },
    )
    purchase = f"PUR-{ctx.key.device_id[2:]}-{row.seq}"
    token = csrf_token(client, "/lots/new")

    response = client.post(
        "/lots/new", data={"csrf_token": token, f"kg:{purchase}": "5.5"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "has 5 kg left, not 5.5 kg" in page
    assert 'value="5.5"' in page


def test_plot_geometry_fault_is_a_field_error(client, farmer_and_plot):
    token = csrf_token(client, "/plots/new")
    form = {
        "csrf_token": token,
        "id": "F-1-P2",
        "farmer": "F-1",
        "lat": "-6.56",
        "lon": "5.44",
        "gps_accuracy_m": "4",
    }

    response = client.post("/plots/new", data=form)

    assert response.status_code == 400
    assert "latitude and longitude look swapped" in response.get_data(as_text=True)


def test_api_errors_are_problem_documents(client):
    response = client.post("/api/v1/sync/batches", data=b"x")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not-a-gateway"


def test_sync_page_shows_progress_while_syncing(client, ctx):
    from edge.models import SyncState

    with ctx.transaction() as session:
        status = ctx.sync_status(session)
        status.state, status.phase, status.done, status.total = (
            SyncState.SYNCING,
            "records",
            3,
            10,
        )
        status.last_error = "POST /api/v1/sync/batches: timed out"

    page = client.get("/sync").get_data(as_text=True)

    assert 'http-equiv="refresh"' in page
    assert "records 3/10" in page
    assert "timed out" in page
    assert "Sync now" in page


def test_unread_messages_do_not_pile_up_in_the_session(client, farmer_and_plot):
    farmer, plot = farmer_and_plot
    token = csrf_token(client, "/harvests/new")
    form = {"csrf_token": token, "farmer": farmer, "plot": plot}
    form |= {"kg": "3", "harvested_on": "2026-11-02"}

    for _ in range(MAX_FLASHES + 4):
        client.post("/harvests/new", data=form)

    with client.session_transaction() as cookie:
        messages = [text for _category, text in cookie["_flashes"]]
    assert len(messages) == MAX_FLASHES
    assert f"(record {2 + MAX_FLASHES + 4})" in messages[-1]


def test_the_top_navigation_offers_every_record_form_and_sync(client):
    page = client.get("/").get_data(as_text=True)

    nav = re.search(r"<nav>(.*?)</nav>", page, re.DOTALL).group(1)
    assert re.findall(r">(\w+)</a>", nav) == [
        "Harvest",
        "Buy",
        "Bag",
        "Dispatch",
        "Transfer",
        "Sync",
    ]
    assert 'href="/harvests/new"' in nav


def test_sync_page_counts_records_in_every_state(client, ctx):
    from edge.models import RecordState

    for n in range(1, 5):
        ctx.append("farmer", {"id": f"F-{n}", "name": "Ama"})
    with ctx.transaction() as session:
        for seq, state in ((1, "acknowledged"), (2, "relayed"), (3, "relayed")):
            session.get(JournalRecord, seq).state = RecordState(state)

    page = client.get("/sync").get_data(as_text=True)

    rows = dict(re.findall(r"<th scope=\"row\">(\w+)</th><td>(\d+)</td>", page))
    assert rows == {
        "pending": "1",
        "sent": "0",
        "relayed": "2",
        "acknowledged": "1",
        "quarantined": "0",
        "rejected": "0",
    }


def _with_orgs(ctx):
    from edge.sync import merge_reference

    orgs = [{"slug": "choco-abidjan", "name": "Choco Abidjan", "kind": "maker"}]
    with ctx.transaction() as session:
        merge_reference(session, {"organisations": orgs}, "me")
        session.add(Lot(id="L-1", mass_g=5000, remaining_g=5000, local=True))


def test_dispatch_form_offers_the_known_organisations(client, ctx):
    _with_orgs(ctx)

    page = client.get("/dispatches/new").get_data(as_text=True)

    assert '<select id="to_org"' in page
    assert '<option value="choco-abidjan"' in page


def test_dispatch_form_refuses_an_unknown_slug_by_name(client, ctx):
    _with_orgs(ctx)
    token = csrf_token(client, "/dispatches/new")

    response = client.post(
        "/dispatches/new",
        data={"csrf_token": token, "lots": "L-1", "to_org": "no-such-org"},
    )

    assert response.status_code == 400
    assert "no organisation no-such-org is known" in response.get_data(as_text=True)


def test_transfer_form_signs_a_transfer_of_a_lot(client, ctx):
    _with_orgs(ctx)
    token = csrf_token(client, "/transfers/new")

    response = client.post(
        "/transfers/new",
        data={"csrf_token": token, "asset": "L-1", "to_org": "choco-abidjan"},
    )

    with ctx.transaction() as session:
        record = session.get(JournalRecord, 1)
    assert response.status_code == 302
    assert record.type == "transfer"


def _purchase(client, farmer, plot, **fields):
    token = csrf_token(client, "/purchases/new")
    form = {"csrf_token": token, "farmer": farmer, "plot": plot, "kg": "10"}
    form |= {"grade": "grade-1", "price": "1000", "currency": "XOF"} | fields
    return client.post("/purchases/new", data=form)


def test_a_purchase_of_fifty_million_kg_is_refused_asking_for_the_unit(
    client, farmer_and_plot
):
    response = _purchase(client, *farmer_and_plot, kg="50000000")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "50,000,000 kg" in page
    assert "check the unit" in page


def test_a_harvest_above_ten_tonnes_is_refused(client, farmer_and_plot):
    farmer, plot = farmer_and_plot
    token = csrf_token(client, "/harvests/new")
    form = {"csrf_token": token, "farmer": farmer, "plot": plot}

    response = client.post(
        "/harvests/new", data=form | {"kg": "10000,5", "harvested_on": "2026-11-02"}
    )

    assert response.status_code == 400
    assert "check the unit" in response.get_data(as_text=True)


def test_an_unknown_currency_is_refused_and_the_form_offers_a_list(
    client, farmer_and_plot
):
    response = _purchase(client, *farmer_and_plot, currency="ZZZ")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ZZZ is not a currency" in page
    assert '<select id="currency"' in page
    assert '<option value="ECU"' not in page


def test_a_schema_error_is_shown_on_the_field_in_plain_words(client, ctx):
    token = csrf_token(client)

    response = client.post(
        "/farmers/new", data={"csrf_token": token, "id": "F 1", "name": "Ama"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="id-error"' in page
    assert "no spaces" in page
    assert "must match pattern" not in page


def test_bagging_form_shows_kg_grouped_with_one_decimal(client, ctx):
    from edge.models import Purchase

    with ctx.transaction() as session:
        session.add(
            Purchase(
                id="P-1",
                farmer="F",
                plot="P",
                mass_g=50_000_000_000,
                remaining_g=50_000_000_000,
                grade="grade-1",
            )
        )
        session.add(
            Purchase(
                id="P-2",
                farmer="F",
                plot="P",
                mass_g=1234,
                remaining_g=1234,
                grade="grade-1",
            )
        )

    page = client.get("/lots/new").get_data(as_text=True)

    assert "50,000,000 kg left" in page
    assert "1.2 kg left" in page
    assert "e+07" not in page


@pytest.mark.parametrize("kg", ["1e308", "1e400", "9" * 40])
def test_an_absurd_number_is_refused_not_a_crash(client, farmer_and_plot, kg):
    response = _purchase(client, *farmer_and_plot, kg=kg)

    assert response.status_code == 400
    assert "far too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("day", "message"), [("2099-01-01", "in the future"), ("1900-01-01", "before 1990")]
)
def test_a_harvest_date_far_off_is_refused(client, farmer_and_plot, day, message):
    farmer, plot = farmer_and_plot
    token = csrf_token(client, "/harvests/new")
    form = {"csrf_token": token, "farmer": farmer, "plot": plot, "kg": "12"}

    response = client.post("/harvests/new", data=form | {"harvested_on": day})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)

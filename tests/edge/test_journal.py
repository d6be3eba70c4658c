import threading

import pytest
from sqlalchemy import select, update

from edge import journal
from edge.errors import MassExceeded, UnknownReference
from edge.models import JournalRecord, Purchase, RecordState
from shared.errors import SchemaInvalid
from shared.keys import verify
from shared.record import GENESIS, parse


def purchase_body(farmer, plot, kg):
    return {
        "farmer": farmer,
        "plot": plot,
        "mass_g": int(kg * 1000),
        "grade": "grade-1",
        "price": 150000,
        "currency": "XOF",
    }


def harvest_body(farmer, plot):
    return {"farmer": farmer, "plot": plot, "mass_g": 900, "harvested_on": "2026-11-02"}


def test_records_form_a_signed_chain(ctx, farmer_and_plot):
    farmer, plot = farmer_and_plot

    ctx.append("purchase", purchase_body(farmer, plot, 12.5))

    with ctx.transaction() as session:
        rows = session.scalars(select(JournalRecord).order_by(JournalRecord.seq)).all()
        fault = journal.verify_chain(session, ctx.key.public_raw, ctx.key.device_id)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert parse(rows[0].raw).prev == GENESIS
    assert parse(rows[2].raw).prev == rows[1].id
    assert all(verify(ctx.key.public_raw, r.signature, r.raw) for r in rows)
    assert {r.state for r in rows} == {RecordState.PENDING}
    assert fault is None


def test_object_ids_carry_device_and_seq(ctx, farmer_and_plot):
    farmer, plot = farmer_and_plot

    row = ctx.append("purchase", purchase_body(farmer, plot, 1))

    assert parse(row.raw).body["id"] == f"PUR-{ctx.key.device_id[2:]}-3"


def test_verify_names_the_first_tampered_record(ctx, farmer_and_plot):
    with ctx.transaction() as session:
        row = session.get(JournalRecord, 2)
        tampered = row.raw.replace(b'"gps_accuracy_m":5', b'"gps_accuracy_m":1')
        session.execute(
            update(JournalRecord).where(JournalRecord.seq == 2).values(raw=tampered)
        )

    with ctx.transaction() as session:
        fault = journal.verify_chain(session, ctx.key.public_raw, ctx.key.device_id)

    assert fault.seq == 2
    assert "SHA-256" in fault.problem


def test_schema_fault_signs_nothing(ctx):
    with pytest.raises(SchemaInvalid) as err:
        ctx.append("farmer", {"id": "F-9", "name": ""})

    with ctx.transaction() as session:
        assert journal.head(session) is None
    assert err.value.where == "body.name"


def test_purchase_needs_a_known_plot_of_that_farmer(ctx, farmer_and_plot):
    farmer, _plot = farmer_and_plot

    with pytest.raises(UnknownReference) as err:
        ctx.append("purchase", purchase_body(farmer, "NOPE", 1))

    assert err.value.where == "body.plot"


def test_harvest_of_an_unknown_farmer_names_the_farmer(ctx, farmer_and_plot):
    _farmer, plot = farmer_and_plot

    with pytest.raises(UnknownReference) as err:
        ctx.append("harvest", harvest_body("F-404", plot))

    assert err.value.where == "body.farmer"


def test_harvest_on_another_farmers_plot_is_refused(ctx, farmer_and_plot):
    _farmer, plot = farmer_and_plot
    ctx.append("farmer", {"id": "F-2", "name": "Yao Kra"})

    with pytest.raises(UnknownReference) as err:
        ctx.append("harvest", harvest_body("F-2", plot))

    with ctx.transaction() as session:
        last = journal.head(session)
    assert err.value.where == "body.plot"
    assert "belongs to farmer F-1" in err.value.detail
    assert last.type == "farmer"


def test_lot_cannot_take_more_than_remains(ctx, farmer_and_plot):
    farmer, plot = farmer_and_plot
    bought = ctx.append("purchase", purchase_body(farmer, plot, 10))
    purchase = parse(bought.raw).body["id"]
    ctx.append("lot", {"inputs": [{"purchase": purchase, "mass_g": 6000}]})

    with pytest.raises(MassExceeded) as err:
        ctx.append("lot", {"inputs": [{"purchase": purchase, "mass_g": 4001}]})

    with ctx.transaction() as session:
        assert session.get(Purchase, purchase).remaining_g == 4000
    assert "4 kg left" in err.value.detail


def test_two_threads_appending_never_fork(ctx, farmer_and_plot):
    farmer, plot = farmer_and_plot
    errors = []

    def worker():
        try:
            for _ in range(25):
                ctx.append("harvest", harvest_body(farmer, plot))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with ctx.transaction() as session:
        rows = session.scalars(select(JournalRecord).order_by(JournalRecord.seq)).all()
        fault = journal.verify_chain(session, ctx.key.public_raw, ctx.key.device_id)
    prevs = [parse(r.raw).prev for r in rows]
    assert errors == []
    assert len(rows) == 52
    assert len(set(prevs)) == len(prevs)
    assert fault is None


def test_every_connection_is_wal_and_fully_synchronous(ctx):
    with ctx.transaction() as session:
        mode = session.connection().exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = session.connection().exec_driver_sql("PRAGMA synchronous").scalar()

    assert mode == "wal"
    assert sync == 2  # FULL


def test_a_harvest_sees_a_farmer_and_plot_signed_in_the_same_transaction(ctx):
    plot = {
        "id": "F-7-P1",
        "farmer": "F-7",
        "geometry": {"type": "Point", "coordinates": [-6.58, 5.40]},
        "gps_accuracy_m": 5,
    }

    with ctx.transaction() as session:
        journal.append(session, ctx.key, "farmer", {"id": "F-7", "name": "Adjoa"})
        journal.append(session, ctx.key, "plot", plot)
        harvest = journal.append(
            session, ctx.key, "harvest", harvest_body("F-7", "F-7-P1")
        )

    assert harvest.seq == 3
    assert harvest.body["plot"] == "F-7-P1"

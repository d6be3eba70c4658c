import pytest

from edge.errors import UnknownReference
from edge.models import Lot, Organisation
from edge.sync import merge_reference

ORGS = [
    {"slug": "choco-abidjan", "name": "Choco Abidjan", "kind": "maker"},
    {"slug": "coop-soubre", "name": "Coop Soubré", "kind": "cooperative"},
]


@pytest.fixture
def lot(ctx):
    with ctx.transaction() as session:
        session.add(Lot(id="L-1", mass_g=5000, remaining_g=5000, local=True))
    return "L-1"


def test_reference_organisations_are_merged(ctx):
    with ctx.transaction() as session:
        merged = merge_reference(session, {"organisations": ORGS}, "me")

    with ctx.transaction() as session:
        names = {o.slug: o.name for o in session.query(Organisation)}
    assert merged == 2
    assert names["coop-soubre"] == "Coop Soubré"


def test_a_dispatch_to_an_unknown_organisation_is_refused_naming_it(ctx, lot):
    with ctx.transaction() as session:
        merge_reference(session, {"organisations": ORGS}, "me")

    with pytest.raises(UnknownReference) as caught:
        ctx.append("dispatch", {"id": "D-1", "lots": [lot], "to_org": "no-such-org"})

    assert "no-such-org" in caught.value.detail
    assert caught.value.where == "body.to_org"


def test_a_transfer_to_an_unknown_organisation_is_refused(ctx, lot):
    with ctx.transaction() as session:
        merge_reference(session, {"organisations": ORGS}, "me")

    with pytest.raises(UnknownReference):
        ctx.append("transfer", {"asset": lot, "to_org": "no-such-org"})


def test_a_known_organisation_is_accepted(ctx, lot):
    with ctx.transaction() as session:
        merge_reference(session, {"organisations": ORGS}, "me")

    row = ctx.append(
        "dispatch", {"id": "D-1", "lots": [lot], "to_org": "choco-abidjan"}
    )

    with ctx.transaction() as session:
        assert session.get(Lot, lot).dispatched_to == "choco-abidjan"
    assert row.seq == 1


def test_before_the_first_sync_any_well_formed_slug_passes(ctx, lot):
    row = ctx.append("dispatch", {"id": "D-1", "lots": [lot], "to_org": "anyone"})

    assert row.seq == 1

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from edge.errors import ImportFileInvalid
from edge.importer import (
    ACCEPTED,
    REJECTED,
    REVIEW,
    UNCHANGED,
    import_farmers,
    import_plots,
)
from edge.models import Farmer, Plot
from shared.record import parse
from tests.edge.conftest import shared_dir

SAMPLE = Path(__file__).resolve().parents[2] / "edge" / "sample"

# The specific outcome each defect of ../shared/data/cooperative-sample must get.
EXPECTED = {
    "CI-SOU-0003-P1": (REJECTED, "coordinates-swapped", "look swapped"),
    "CI-SOU-0005-P1": (REJECTED, "self-intersecting", "crosses itself"),
    "CI-SOU-0007-P1": (REJECTED, "ring-not-closed", "not closed"),
    "CI-SOU-0008-P1": (REJECTED, "too-few-positions", "has 3 positions"),
    "CI-SOU-0010-P1": (REJECTED, "point-over-4ha", "must be mapped as a polygon"),
    "CI-SOU-0011-P1": (
        REVIEW,
        "duplicate-polygon",
        "same polygon as plot CI-SOU-0012-P1",
    ),
    "CI-SOU-0012-P2": (REVIEW, "area-mismatch", "declared area 48 ha"),
    "CI-SOU-0014-P1": (REJECTED, "farmer-unknown", "CI-SOU-9999"),
    "CI-SOU-0015-P1": (REJECTED, "outside-cocoa-zone", "outside the cocoa belt"),
    "CI-SOU-0004": (REJECTED, "duplicate-farmer-code", "appears on line 5"),
    "CI-SOU-0007": (REJECTED, "name-missing", "has no name"),
    "CI-SOU-0009": (REVIEW, "phone-malformed", "'07-12'"),
    "CI-SOU-0011": (ACCEPTED, None, "shown as text"),
    "CI-SOU-0013": (ACCEPTED, None, "registered farmer"),
}
# The plot that shares CI-SOU-0011-P1's polygon is flagged with it, naming it.
TWIN = "CI-SOU-0012-P1"


@pytest.fixture
def cooperative(ctx):
    folder = shared_dir() / "data" / "cooperative-sample"
    farmers = import_farmers(ctx, (folder / "farmers.csv").read_bytes())
    plots = import_plots(ctx, (folder / "plots.geojson").read_bytes())
    defects = json.loads((folder / "defects.json").read_text())
    return farmers, plots, defects


def test_every_defect_gets_its_specific_outcome(cooperative):
    farmers, plots, defects = cooperative

    for defect in defects:
        code = defect.get("plot_code") or defect["farmer_code"]
        report = plots if "plot_code" in defect else farmers
        outcome, reason, words = EXPECTED[code]
        rows = report.by_code(code)

        assert rows, code
        for row in rows:
            assert (row.outcome, row.reason) == (outcome, reason), (code, row)
            assert words in row.message, (code, row.message)
    assert len(defects) == len(EXPECTED) == 14


def test_every_other_row_is_accepted(cooperative):
    farmers, plots, defects = cooperative
    flagged = {d.get("plot_code") or d["farmer_code"] for d in defects}

    others = [row for row in farmers.rows + plots.rows if row.code not in flagged]

    assert len(others) == (40 - 6) + (51 - 9)  # CI-SOU-0004 is on two lines
    for row in others:
        if row.code == TWIN:
            assert row.outcome == REVIEW and "CI-SOU-0011-P1" in row.message
        else:
            assert row.outcome == ACCEPTED, row


def test_names_survive_exactly_and_markup_is_kept_as_data(ctx, cooperative):
    with ctx.transaction() as session:
        accents = session.get(Farmer, "CI-SOU-0013")
        markup = session.get(Farmer, "CI-SOU-0011")

    assert accents.name == "N'Guessan Akissi Éléonore"
    assert markup.name == '<script>alert("x")</script> Kone'


def test_plot_of_a_farmer_whose_row_was_rejected_is_kept_and_says_why(cooperative):
    _farmers, plots, _defects = cooperative

    row = plots.by_code("CI-SOU-0007-P2")[0]

    assert row.outcome == ACCEPTED
    assert "registry row was rejected (name-missing)" in row.message


def test_review_flags_travel_in_the_signed_note(ctx, cooperative):
    with ctx.transaction() as session:
        plot = session.get(Plot, "CI-SOU-0012-P2")
        body = parse(
            next(r for r in _journal(session) if r.id == plot.record_id).raw
        ).body

    assert body["note"].startswith("import review: area-mismatch")


def test_reimport_changes_nothing(ctx, cooperative):
    folder = shared_dir() / "data" / "cooperative-sample"

    again = import_plots(ctx, (folder / "plots.geojson").read_bytes())

    assert again.counts[ACCEPTED] == again.counts[REVIEW] == 0
    assert again.counts[UNCHANGED] == 44


def test_demo_sample_is_all_valid(ctx):
    farmers = import_farmers(ctx, (SAMPLE / "farmers.csv").read_bytes())
    plots = import_plots(ctx, (SAMPLE / "plots.geojson").read_bytes())

    assert {row.outcome for row in farmers.rows + plots.rows} == {ACCEPTED}
    assert len(farmers.rows) == len(plots.rows) == 5


def _journal(session):
    from edge.models import JournalRecord

    return session.scalars(select(JournalRecord))


def test_an_unclosed_quote_is_reported_with_its_line_and_loses_nothing_silently(ctx):
    data = b'farmer_code,full_name\nB-0,Yao\nB-1,"Ama\nB-2,Kofi\n'

    with pytest.raises(ImportFileInvalid) as caught:
        import_farmers(ctx, data)

    with ctx.transaction() as session:
        assert session.scalars(select(Farmer)).first() is None
    assert "line 3" in caught.value.detail


def test_a_quote_closed_lines_later_rejects_the_row_with_its_number(ctx):
    data = b'farmer_code,full_name\nB-1,"Ama\nB-2,Kofi"\nB-3,Yao\n'

    report = import_farmers(ctx, data)

    row = report.by_code("B-1")[0]
    assert row.outcome == REJECTED
    assert row.reason == "field-has-newline"
    assert "row 2" in row.message
    assert report.by_code("B-3")[0].outcome == ACCEPTED


def test_a_semicolon_csv_from_a_french_spreadsheet_is_read(ctx):
    data = "farmer_code;full_name;village\nB-1;Ama Kouassi;Soubré\n".encode()

    report = import_farmers(ctx, data)

    assert report.by_code("B-1")[0].outcome == ACCEPTED


def test_an_empty_file_is_called_empty(ctx):
    with pytest.raises(ImportFileInvalid) as caught:
        import_farmers(ctx, b"")

    assert "the file is empty" in caught.value.detail


def _square(lon: float, lat: float, side: float) -> dict:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _map(*plots) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"plot_code": code, "farmer_code": "F-1"},
            "geometry": geometry,
        }
        for code, geometry in plots
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_a_plot_above_500_ha_is_rejected(ctx, farmer_and_plot):
    # About 3 km by 3 km: some 900 ha.
    data = _map(("F-1-P9", _square(-6.6, 5.4, 0.027)))

    report = import_plots(ctx, data)

    row = report.by_code("F-1-P9")[0]
    assert row.outcome == REJECTED
    assert "rarely above 100 ha; check the geometry" in row.message


def test_overlapping_but_different_polygons_are_said_to_overlap(ctx, farmer_and_plot):
    data = _map(
        ("F-1-P2", _square(-6.6, 5.4, 0.01)),
        ("F-1-P3", _square(-6.6, 5.4, 0.0099)),
    )

    report = import_plots(ctx, data)

    row = report.by_code("F-1-P2")[0]
    assert row.outcome == REVIEW
    assert "overlaps plot F-1-P3" in row.message
    assert "same polygon" not in row.message

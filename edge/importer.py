"""Import a cooperative's farmer registry (CSV) and plot map (GeoJSON), row by row.

Every row gets an outcome and a reason; a bad row never stops the good ones.
Outcomes: `accepted` (signed), `review` (signed and flagged so a person checks it),
`rejected` (not signed; the reason says what to fix), `unchanged` (already known).

Two findings are warn-and-accept (`review`), not reject: a plot whose polygon is
the same as another plot's, and a declared area far from the mapped one. Both are
usually a mapping or typing slip a cooperative must look at, yet rejecting would
hide the plot from traceability until someone re-maps it; the signed record's
`note` carries the flag so the hub shows it too. A phone number that is not
international is also `review`: the farmer is registered without it, since the
phone is optional and a typo should not keep a farmer out.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from edge import journal
from edge.context import EdgeContext
from edge.errors import ImportFileInvalid
from edge.models import Farmer, ImportRow, Plot
from shared import geo
from shared.errors import SchemaInvalid
from shared.validation import validate_body

ACCEPTED, REVIEW, REJECTED, UNCHANGED = "accepted", "review", "rejected", "unchanged"
OUTCOMES = (ACCEPTED, REVIEW, REJECTED, UNCHANGED)
FARMER_COLUMNS = ("farmer_code", "full_name")
MARKUP = set('<>&"')


@dataclass
class RowResult:
    """What happened to one line of the CSV or one feature of the GeoJSON."""

    kind: str
    number: int
    code: str | None
    outcome: str
    reason: str | None
    message: str
    record_id: str | None = None


@dataclass
class ImportReport:
    """The per-row outcome of one import run."""

    kind: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    rows: list[RowResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.outcome for row in self.rows)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    def summary(self) -> str:
        parts = ", ".join(f"{n} {outcome}" for outcome, n in self.counts.items())
        return f"{self.kind}: {len(self.rows)} rows: {parts}"

    def by_code(self, code: str) -> list[RowResult]:
        return [row for row in self.rows if row.code == code]


Progress = Callable[[RowResult], None] | None


def import_farmers(
    ctx: EdgeContext, data: bytes, progress: Progress = None
) -> ImportReport:
    """Sign a farmer record for every good row of a registry CSV."""
    rows = _read_csv(data)
    report = ImportReport("farmers")
    codes = Counter(row.get("farmer_code", "").strip() for _, row in rows)
    with ctx.transaction() as session:
        for line, row in rows:
            result = _farmer_row(ctx, session, line, row, codes, rows)
            _keep(session, report, result, progress)
    return report


def _read_csv(data: bytes) -> list[tuple[int, dict]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileInvalid(
            f"the CSV is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8' and retry"
        ) from None

    if not text.strip():
        raise ImportFileInvalid("the file is empty; export the registry with its rows")

    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True
    )
    start = 1
    try:
        fieldnames = reader.fieldnames or []
        missing = [c for c in FARMER_COLUMNS if c not in fieldnames]
        if missing:
            raise ImportFileInvalid(
                f"the CSV has no column {', '.join(missing)} (its header reads "
                f"{', '.join(fieldnames) or 'nothing'})"
            )
        rows = []
        start = 2
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        # A quote left open swallows the lines after it into one field: the file
        # is refused as a whole rather than losing those rows without a word.
        raise ImportFileInvalid(
            f"the CSV is malformed at line {start}: {exc}; check for a "
            'quote (") that is opened and never closed'
        ) from None
    return rows


def _delimiter(text: str) -> str:
    """`;` for a header written by a spreadsheet in a comma-decimal locale, else `,`."""
    header = text.splitlines()[0]
    return ";" if header.count(";") > header.count(",") else ","


def _farmer_row(ctx, session, line, row, codes, rows) -> RowResult:
    code = (row.get("farmer_code") or "").strip()
    result = RowResult("farmer", line, code or None, REJECTED, None, "")
    if not code:
        return _reject(result, "code-missing", "the row has no farmer_code")

    if codes[code] > 1:
        others = [
            f"line {n} ({r.get('full_name', '').strip() or 'no name'})"
            for n, r in rows
            if r.get("farmer_code", "").strip() == code
        ]
        return _reject(
            result,
            "duplicate-farmer-code",
            f"farmer code {code} appears on {' and '.join(others)}; a code must name "
            "one farmer, so none of these rows was imported: fix the registry",
        )

    name = (row.get("full_name") or "").strip()
    if not name:
        return _reject(
            result, "name-missing", f"farmer {code} has no name; fill in full_name"
        )

    broken = [k for k, v in row.items() if isinstance(v, str) and "\n" in v]
    if broken:
        return _reject(
            result,
            "field-has-newline",
            f"row {line}: farmer {code}'s {broken[0]} runs over several lines; a "
            "quote is probably not closed, which swallows the next rows: fix the "
            "registry",
        )

    body, notes = _farmer_body(code, name, row)
    try:
        validate_body("farmer", body)
    except SchemaInvalid as exc:
        return _reject(result, "schema-invalid", f"farmer {code}: {exc.detail}")

    message = "; ".join(notes)
    outcome = REVIEW if notes else ACCEPTED
    if MARKUP & set(name):
        message = message or (
            "name contains markup characters; it is kept exactly as written and "
            "always shown as text"
        )
    return _sign_farmer(ctx, session, result, body, outcome, message)


def _farmer_body(code: str, name: str, row: dict) -> tuple[dict, list[str]]:
    body: dict = {"id": code, "name": name}
    notes = []
    for column in ("gender", "village", "registered_on"):
        value = (row.get(column) or "").strip()
        if value:
            body[column] = value
    year = (row.get("birth_year") or "").strip()
    if year.isdigit():
        body["birth_year"] = int(year)
    certifications = [c.strip() for c in (row.get("certifications") or "").split(";")]
    if any(certifications):
        body["certifications"] = [c for c in certifications if c]

    phone = (row.get("phone") or "").strip()
    if phone:
        try:
            validate_body("farmer", {"id": code, "name": name, "phone": phone})
            body["phone"] = phone
        except SchemaInvalid:
            notes.append(
                f"phone {phone!r} is not an international number like "
                "+225 07 12 34 56 78; the farmer is registered without a phone "
                "and flagged for review"
            )
            body["note"] = f"import review: phone-malformed: {phone!r} left out"[:500]
    return body, notes


def _sign_farmer(ctx, session, result, body, outcome, message) -> RowResult:
    known = session.get(Farmer, body["id"])
    if known and known.name == body["name"] and _same_fields(known, body):
        result.outcome, result.reason = UNCHANGED, None
        result.message = f"farmer {body['id']} is registered already with these details"
        return result

    if known and known.record_id:
        body["corrects"] = known.record_id
        message = message or f"updated the registration of farmer {body['id']}"
    row = journal.append(session, ctx.key, "farmer", body)
    result.outcome = outcome
    result.reason = "phone-malformed" if outcome == REVIEW else None
    result.message = message or f"registered farmer {body['id']}"
    result.record_id = row.id
    return result


def _same_fields(known: Farmer, body: dict) -> bool:
    wanted = {k: v for k, v in body.items() if k not in ("id", "name", "note")}
    have = dict(known.fields)
    if known.village:
        have["village"] = known.village
    wanted.pop("registered_on", None)
    return all(have.get(k) == v for k, v in wanted.items())


def import_plots(
    ctx: EdgeContext, data: bytes, progress: Progress = None
) -> ImportReport:
    """Sign a plot record for every good feature of a plot map GeoJSON."""
    features = _read_features(data)
    report = ImportReport("plots")
    with ctx.transaction() as session:
        registry = _registry(session)
        checks = [_plot_check(n, f) for n, f in enumerate(features, start=1)]
        twins = _twins(session, checks)
        seen: set[str] = set()
        for check in checks:
            result = _plot_row(ctx, session, check, registry, twins, seen)
            _keep(session, report, result, progress)
    return report


def _read_features(data: bytes) -> list:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFileInvalid(f"the plot map is not GeoJSON: {exc}") from None

    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ImportFileInvalid("the plot map must be a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise ImportFileInvalid("the FeatureCollection has no features list")
    return features


@dataclass
class _PlotCheck:
    number: int
    code: str | None
    farmer: str | None
    props: dict
    geometry: dict | None
    geo: geo.PlotCheck | None
    problem: tuple[str, str] | None = None


def _plot_check(number: int, feature) -> _PlotCheck:
    props = feature.get("properties") or {} if isinstance(feature, dict) else {}
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    code = str(props.get("plot_code") or "").strip() or None
    farmer = str(props.get("farmer_code") or "").strip() or None
    check = _PlotCheck(number, code, farmer, props, geometry, None)
    if not code:
        check.problem = ("code-missing", "the feature has no plot_code property")
    elif not farmer:
        check.problem = ("farmer-missing", f"plot {code} has no farmer_code property")
    elif not isinstance(geometry, dict):
        check.problem = ("geometry-missing", f"plot {code} has no geometry")
    else:
        check.geo = geo.check_plot(geometry, _declared(props))
    return check


def _declared(props: dict) -> float | None:
    value = props.get("declared_area_ha")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _registry(session: Session) -> dict[str, str | None]:
    """Farmer codes this device knows: registered ones, and codes of registry rows
    that were rejected (mapped to the reason), so a good plot is not lost because
    its farmer's row needs fixing."""
    known: dict[str, str | None] = {}
    query = select(ImportRow).where(
        ImportRow.kind == "farmer", ImportRow.code.is_not(None)
    )
    for row in session.scalars(query.order_by(ImportRow.pk)):
        known[row.code] = row.reason if row.outcome == REJECTED else None
    for code in session.scalars(select(Farmer.id)):
        known[code] = None
    return known


def _twins(
    session: Session, checks: list[_PlotCheck]
) -> dict[str, list[tuple[str, str, bool]]]:
    """For each plot code, the (code, farmer, identical) of plots its polygon
    mostly covers or shares."""
    candidates = [
        (c.code, c.farmer, c.geometry) for c in checks if c.geo and not c.geo.rejected
    ]
    for plot in session.scalars(select(Plot)):
        candidates.append((plot.id, plot.farmer, plot.geometry))

    farmers = {code: farmer for code, farmer, _ in candidates}
    shapes = {code: geometry for code, _farmer, geometry in candidates}
    twins: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for index, (code, _farmer, geometry) in enumerate(candidates):
        others = [(c, g) for c, _f, g in candidates[index + 1 :] if c != code]
        for twin in geo.duplicates(geometry, others):
            same = geo.same_polygon(geometry, shapes[twin])
            twins[code].append((twin, farmers[twin], same))
            twins[twin].append((code, farmers[code], same))
    return twins


def _plot_row(ctx, session, check: _PlotCheck, registry, twins, seen) -> RowResult:
    result = RowResult("plot", check.number, check.code, REJECTED, None, "")
    if check.problem:
        return _reject(result, *check.problem)

    if check.code in seen:
        return _reject(
            result,
            "duplicate-plot-code",
            f"plot code {check.code} appears twice in the map",
        )
    seen.add(check.code)

    rejects = [i for i in check.geo.issues if i.severity == geo.REJECT]
    if rejects:
        return _reject(
            result, rejects[0].code, f"plot {check.code}: {rejects[0].message}"
        )

    if check.farmer not in registry:
        return _reject(
            result,
            "farmer-unknown",
            f"plot {check.code} names farmer {check.farmer}, who is not in the "
            "farmer registry; import the farmer first or correct the code",
        )

    reviews = [(i.code, i.message) for i in check.geo.issues]
    for twin, farmer, same in twins.get(check.code, []):
        whose = "another farmer" if farmer != check.farmer else "the same farmer"
        relation = "same polygon as" if same else "overlaps"
        reviews.append(
            (
                "duplicate-polygon",
                (
                    f"{relation} plot {twin} of farmer {farmer} ({whose}); "
                    "accepted and flagged for review: one of the two is probably "
                    "mapped wrong"
                ),
            )
        )
    return _sign_plot(ctx, session, result, check, reviews, registry[check.farmer])


def _sign_plot(ctx, session, result, check, reviews, farmer_problem) -> RowResult:
    body = _plot_body(ctx, check)
    notes = [message for _code, message in reviews]
    if reviews:
        flags = ", ".join(code for code, _ in reviews)
        body["note"] = f"import review: {flags}. {' '.join(notes)}"[:500]

    known = session.get(Plot, check.code)
    if known and known.geometry == body["geometry"] and known.farmer == body["farmer"]:
        result.outcome = UNCHANGED
        result.message = f"plot {check.code} is registered already with this boundary"
        return result

    if known and known.record_id:
        body["corrects"] = known.record_id
    try:
        row = journal.append(session, ctx.key, "plot", body, check=False)
    except SchemaInvalid as exc:
        return _reject(result, "schema-invalid", f"plot {check.code}: {exc.detail}")

    result.outcome = REVIEW if reviews else ACCEPTED
    result.reason = reviews[0][0] if reviews else None
    messages = notes or [f"registered plot {check.code}"]
    if farmer_problem:
        messages.append(
            f"farmer {check.farmer}'s registry row was rejected ({farmer_problem}); "
            "fix it so the plot has a registered farmer"
        )
    result.message = "; ".join(messages)
    result.record_id = row.id
    return result


def _plot_body(ctx: EdgeContext, check: _PlotCheck) -> dict:
    props = check.props
    body = {
        "id": check.code,
        "farmer": check.farmer,
        "geometry": {
            "type": check.geometry["type"],
            "coordinates": check.geometry["coordinates"],
        },
    }
    accuracy = props.get("gps_accuracy_m")
    if isinstance(accuracy, (int, float)):
        body["gps_accuracy_m"] = accuracy
    else:
        # The schema needs an accuracy; say in the record that it was assumed.
        body["gps_accuracy_m"] = ctx.config.import_accuracy_m
        body["note"] = "gps_accuracy_m not in the plot map; import default used"
    if _declared(props):
        body["declared_area_ha"] = _declared(props)
    for key in ("planted_year", "mapped_on"):
        if props.get(key) is not None:
            body[key] = props[key]
    return body


def _reject(result: RowResult, reason: str, message: str) -> RowResult:
    result.outcome, result.reason, result.message = REJECTED, reason, message
    return result


def _keep(session: Session, report: ImportReport, result: RowResult, progress) -> None:
    report.rows.append(result)
    session.add(
        ImportRow(
            run=report.run,
            kind=result.kind,
            number=result.number,
            code=result.code,
            outcome=result.outcome,
            reason=result.reason,
            message=result.message[:1000],
            record_id=result.record_id,
        )
    )
    if progress:
        progress(result)

"""The mobile pages: home, the record forms, sync, import and the record list."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from edge import forms, journal, wording
from edge.context import EdgeContext
from edge.errors import AlreadyExists, MassExceeded, UnknownReference
from edge.models import Farmer, JournalRecord, Lot, Organisation, Plot, Purchase
from shared.errors import SchemaInvalid
from shared.record import parse

bp = Blueprint("pages", __name__)
# Errors a person can fix by changing what they typed; anything else is a problem page.
FIXABLE = (SchemaInvalid, UnknownReference, AlreadyExists, MassExceeded)
MAX_FLASHES = 5


def edge() -> EdgeContext:
    return current_app.extensions["cocoa_edge"]


@bp.get("/")
def home():
    ctx = edge()
    with ctx.transaction() as session:
        counts = journal.count_by_state(session)
        status = ctx.sync_status(session)
        enrollment = ctx.enrollment(session)
        last = journal.head(session)
    return render_template(
        "home.html",
        counts=counts,
        status=status,
        enrollment=enrollment,
        total=last.seq if last else 0,
        device=ctx.key.device_id,
        label=ctx.label,
    )


@bp.route("/farmers/new", methods=["GET", "POST"])
def farmer():
    return _record_form("farmer.html", "farmer", forms.farmer)


@bp.route("/plots/new", methods=["GET", "POST"])
def plot():
    return _record_form("plot.html", "plot", forms.plot)


@bp.route("/harvests/new", methods=["GET", "POST"])
def harvest():
    return _record_form("harvest.html", "harvest", forms.harvest)


@bp.route("/purchases/new", methods=["GET", "POST"])
def purchase():
    return _record_form("purchase.html", "purchase", forms.purchase)


@bp.route("/drying/new", methods=["GET", "POST"])
def drying():
    return _record_form("drying.html", "drying", forms.drying)


@bp.route("/lots/new", methods=["GET", "POST"])
def lot():
    def parse_lot(form):
        with edge().transaction() as session:
            ids = [p.id for p in _open_purchases(session)]
        return forms.lot(form, ids)

    return _record_form("lot.html", "lot", parse_lot)


@bp.route("/dispatches/new", methods=["GET", "POST"])
def dispatch():
    return _record_form("dispatch.html", "dispatch", forms.dispatch)


@bp.route("/transfers/new", methods=["GET", "POST"])
def transfer():
    """Hand a lot's ownership to another organisation (the hub lets only owners
    process a lot)."""
    return _record_form("transfer.html", "transfer", forms.transfer)


def _record_form(template: str, rtype: str, parse_form: Callable):
    """Show a form; on POST sign and commit, then report success, else show errors."""
    form = request.form if request.method == "POST" else MultiDict()
    parsed = forms.Parsed()
    if request.method == "POST":
        parsed = parse_form(form)
        if not parsed.errors:
            try:
                row = edge().append(rtype, parsed.body)
            except SchemaInvalid as exc:
                field = forms.field_for(exc.where, parsed.body)
                parsed.errors[field] = wording.plain(exc)
            except FIXABLE as exc:
                parsed.errors[forms.field_for(exc.where, parsed.body)] = exc.detail
            else:
                return _saved(row, parsed.warnings)

    with edge().transaction() as session:
        choices = _choices(session)
    status = 400 if parsed.errors else 200
    return render_template(template, form=form, errors=parsed.errors, **choices), status


def _saved(row: journal.Appended, warnings: list[str]):
    # The row is committed by now: EdgeContext.append returns after the commit.
    _flash(
        f"Saved and signed: {row.type} {row.body.get('id', '')} (record {row.seq}).",
        "ok",
    )
    for warning in warnings:
        _flash(warning, "warning")
    return redirect(url_for(".home"))


def _flash(message: str, category: str) -> None:
    """Flash a message, keeping only the newest few in the session cookie."""
    flash(message, category)
    # A client that posts without following the redirect never reads its messages;
    # unbounded, they grow the signed cookie on every submit (and past the 4 KB a
    # browser keeps), and every request then pays to verify and re-sign it.
    del cookie_session["_flashes"][:-MAX_FLASHES]


def _choices(session) -> dict:
    """(value, text) pairs for the forms' lists, and the open purchases and lots."""
    farmers = session.scalars(select(Farmer).order_by(Farmer.name)).all()
    plots = session.scalars(select(Plot).order_by(Plot.id)).all()
    purchases = _open_purchases(session)
    lots = session.scalars(
        select(Lot).where(Lot.dispatched_to.is_(None), Lot.remaining_g > 0)
    ).all()
    organisations = session.scalars(select(Organisation).order_by(Organisation.name))
    return {
        "farmer_options": [(f.id, f"{f.name} ({f.id})") for f in farmers],
        "plot_options": [(p.id, f"{p.id} · farmer {p.farmer}") for p in plots],
        "purchases": purchases,
        "purchase_options": [
            (p.id, f"{p.id} · {forms.format_kg(p.remaining_g)} kg left")
            for p in purchases
        ],
        "lot_options": [
            (lot.id, f"{lot.id} · {forms.format_kg(lot.remaining_g)} kg")
            for lot in lots
        ],
        "org_options": [(o.slug, f"{o.name} ({o.slug})") for o in organisations],
        "currency_options": [(c, c) for c in forms.CURRENCIES],
    }


def _open_purchases(session) -> list[Purchase]:
    query = select(Purchase).where(Purchase.remaining_g > 0).order_by(Purchase.id)
    return list(session.scalars(query))


@bp.get("/sync")
def sync_page():
    ctx = edge()
    with ctx.transaction() as session:
        status = ctx.sync_status(session)
        counts = journal.count_by_state(session)
        enrollment = ctx.enrollment(session)
    return render_template(
        "sync.html",
        status=status,
        counts=counts,
        meaning=journal.STATE_MEANING,
        enrollment=enrollment,
    )


@bp.post("/sync")
def sync_now():
    from edge import sync  # with requests, ~5 MB an edge run --no-scheduler never needs

    started = sync.start_background(edge())
    if started:
        flash("Sync started.", "ok")
    else:
        flash("A sync is already running.", "warning")
    return redirect(url_for(".sync_page"))


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    # The importer brings shapely and pyproj (~26 MB resident): only this page pays.
    from edge import importer

    reports = []
    if request.method == "POST":
        ctx = edge()
        farmers_file = request.files.get("farmers")
        plots_file = request.files.get("plots")
        if farmers_file and farmers_file.filename:
            reports.append(importer.import_farmers(ctx, farmers_file.read()))
        if plots_file and plots_file.filename:
            reports.append(importer.import_plots(ctx, plots_file.read()))
        if not reports:
            flash("Choose a farmer CSV, a plot GeoJSON, or both.", "warning")
    return render_template("import.html", reports=reports)


@bp.route("/login", methods=["GET", "POST"])
def login_page():
    """The operator's login, asked only when the edge serves a network address."""
    from edge import login

    config = edge().config
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if login.attempt(config, password, request.remote_addr or "unknown"):
            login.log_in(config)
            return redirect(_safe_next(request.args.get("next")))
        error = "wrong password"
    status = 401 if error else 200
    return render_template("login.html", error=error), status


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL would make the login an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for(".home")


@bp.get("/records")
def records():
    with edge().transaction() as session:
        query = select(JournalRecord).order_by(JournalRecord.seq.desc()).limit(200)
        rows = [(row, parse(row.raw).body) for row in session.scalars(query)]
    return render_template("records.html", rows=rows)

"""The web console: login, dashboard, traces, enrollment, review, public trace page."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as web
from markupsafe import Markup
from sqlalchemy import select

from hub import dashboard as board
from hub import db, enrollment, publicview, scope, trace
from hub.auth import attempt_login, current_caller, require
from hub.charts import mass_balance
from hub.errors import CsrfFailed, Forbidden, InvalidInput, NotFound
from hub.journey_graph import lot_graph, product_graph
from hub.models import (
    CacaoBatch,
    EnrollmentToken,
    Organisation,
    Record,
    Rejection,
    Supplier,
    utcnow,
)
from hub.plotmap import plot_map
from hub.qr import qr_svg
from shared import units
from hub.sync_api import public_base

bp = Blueprint("console", __name__)


@bp.before_app_request
def _csrf() -> None:
    # Every form post carries the session's token; the JSON APIs are not forms.
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    sent = request.form.get("csrf_token", "")
    expected = web.get("csrf_token", "")
    # Two empty strings compare equal: a post with no cookie and no token must not.
    if not (
        sent and expected and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfFailed("reload the page and send the form again")


@bp.app_template_filter("kg")
def _kg(grams) -> str:
    return units.kg(grams)


@bp.app_template_filter("kg_value")
def _kg_value(grams) -> str:
    return units.kg_value(grams)


@bp.app_context_processor
def _globals() -> dict:
    if "csrf_token" not in web:
        web["csrf_token"] = secrets.token_urlsafe(24)
    return {"csrf_token": web["csrf_token"], "caller": current_caller()}


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        # Behind a reverse proxy this is the proxy's address: see login_limit.
        user = attempt_login(
            request.form.get("username", ""),
            request.form.get("password", ""),
            request.remote_addr or "unknown",
        )
        if user is not None:
            web.clear()
            web["user_id"] = user.id
            return redirect(_local_path(request.args.get("next")))
        error = "Unknown user or wrong password."
    status = 401 if error else 200
    return render_template("login.html", error=error), status


def _local_path(target: str | None) -> str:
    """Only a path on this site: `next` must not send a user elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("console.dashboard")


@bp.post("/logout")
def logout():
    web.clear()
    return redirect(url_for("console.login"))


@bp.get("/")
def dashboard():
    caller = current_caller()
    if caller is None:
        return redirect(url_for("console.login"))

    session = db.session()
    return render_template(
        "dashboard.html",
        weekly=board.volumes(session, caller),
        devices=board.device_health(session, caller, utcnow()),
        counts=board.review_counts(session, caller),
        stored=board.stored_by_type(session, caller),
        batches=board.recent_batches(session, caller),
        products=board.recent_products(session, caller),
        lots=board.recent_lots(session, caller),
    )


@bp.get("/products/<product_id>")
@require()
def product(product_id: str):
    doc = trace.product_trace(db.session(), current_caller(), product_id)
    public = _public_url(product_id)
    lots = [dict(lot, here_g=lot["quantity_g"]) for lot in doc["cacao_batches"]]
    return render_template(
        "product.html",
        t=doc,
        graph=product_graph(doc),
        plotmap=plot_map(doc["plots"], request.args.get("colour")),
        balance=mass_balance(lots),
        public_url=public,
        qr=Markup(qr_svg(public)),
        certifications=publicview.common_certifications(doc["cacao_batches"]),
        tally=publicview.ledger_tally(doc),
    )


@bp.get("/lots/<lot_id>")
@require()
def lot(lot_id: str):
    doc = trace.lot_trace(db.session(), current_caller(), lot_id)
    return render_template(
        "lot.html",
        t=doc,
        graph=lot_graph(doc),
        plotmap=plot_map(doc["plots"], request.args.get("colour")),
        balance=mass_balance([doc["cacao_batch"]]),
    )


@bp.get("/suppliers/<int:supplier_id>")
@require()
def supplier(supplier_id: int):
    session = db.session()
    caller = current_caller()
    row = session.get(Supplier, supplier_id)
    if row is None:
        raise NotFound(f"no supplier {supplier_id}")

    lots = session.scalars(
        select(CacaoBatch).where(
            CacaoBatch.supplier_id == supplier_id, scope.lots(caller)
        )
    ).all()
    # A supplier is shown to those who work with it: its own people, or anyone
    # who may see one of its lots.
    if not (caller.reads_all or caller.org_id == row.org_id or lots):
        raise Forbidden("this supplier is not one your organisation works with")
    return render_template("supplier.html", supplier=row, lots=lots)


@bp.route("/admin/enrollment", methods=["GET", "POST"])
@require("admin")
def enrollment_tokens():
    session = db.session()
    token = None
    if request.method == "POST":
        org = session.scalar(
            select(Organisation).where(Organisation.slug == request.form.get("org", ""))
        )
        if org is None:
            raise NotFound("choose an existing organisation")
        raw = request.form.get("ttl_hours", "24").strip() or "24"
        if not raw.isdigit():
            raise InvalidInput(
                f"hours must be a whole number, not {raw!r}", where="ttl_hours"
            )
        hours = min(int(raw), enrollment.MAX_TTL.days * 24 + 1)
        token = enrollment.create_token(
            session,
            org,
            request.form.get("role", ""),
            timedelta(hours=hours),
            current_caller().username,
        )
        session.commit()
    orgs = session.scalars(select(Organisation).order_by(Organisation.slug)).all()
    tokens = session.scalars(
        select(EnrollmentToken).order_by(EnrollmentToken.created_at.desc()).limit(50)
    ).all()
    return render_template("tokens.html", orgs=orgs, tokens=tokens, new_token=token)


@bp.get("/review")
@require("admin", "auditor")
def review():
    session = db.session()
    quarantined = session.scalars(
        select(Record)
        .where(Record.status == "quarantined")
        .order_by(Record.pos.desc())
        .limit(100)
    )
    refused = session.scalars(
        select(Record)
        .where(Record.ledger_status == "refused")
        .order_by(Record.pos.desc())
        .limit(100)
    )
    rejections = session.scalars(
        select(Rejection).order_by(Rejection.id.desc()).limit(100)
    )
    return render_template(
        "review.html",
        quarantined=list(quarantined),
        refused=list(refused),
        rejections=list(rejections),
    )


@bp.get("/t/<product_id>")
def public_trace(product_id: str):
    """The consumer page: no login and no personal data, places at village level."""
    doc = trace.product_trace(db.session(), None, product_id)
    return render_template("public.html", story=publicview.story(doc))


def _public_url(product_id: str) -> str:
    """The address printed on packs: the hub's public URL, not the one used here."""
    return public_base() + url_for("console.public_trace", product_id=product_id)

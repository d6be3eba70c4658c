"""The web console: login, dashboard, traces, enrollment, review, public trace page."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as web
from sqlalchemy import func, select

from hub import db, enrollment, trace
from hub.auth import check_login, current_caller, require
from hub.errors import CsrfFailed, NotFound
from hub.models import (
    CacaoBatch,
    Device,
    EnrollmentToken,
    Organisation,
    Product,
    Record,
    Rejection,
    Supplier,
    SyncBatch,
)
from hub.plotmap import HEIGHT, WIDTH, shapes

bp = Blueprint("console", __name__)


@bp.before_app_request
def _csrf() -> None:
    # Every form post carries the session's token; the JSON APIs are not forms.
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent, web.get("csrf_token", "")):
        raise CsrfFailed("reload the page and send the form again")


@bp.app_context_processor
def _globals() -> dict:
    if "csrf_token" not in web:
        web["csrf_token"] = secrets.token_urlsafe(24)
    return {
        "csrf_token": web["csrf_token"],
        "caller": current_caller(),
        "map_w": WIDTH,
        "map_h": HEIGHT,
    }


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        user = check_login(
            db.session(),
            request.form.get("username", ""),
            request.form.get("password", ""),
        )
        if user is not None:
            web.clear()
            web["user_id"] = user.id
            return redirect(url_for("console.dashboard"))
        error = "Unknown user or wrong password."
    return render_template("login.html", error=error)


@bp.post("/logout")
def logout():
    web.clear()
    return redirect(url_for("console.login"))


@bp.get("/")
def dashboard():
    if current_caller() is None:
        return redirect(url_for("console.login"))

    session = db.session()
    volumes = dict(
        session.execute(select(Record.type, func.count()).group_by(Record.type)).all()
    )
    rejected = dict(
        session.execute(
            select(Rejection.device_id, func.count()).group_by(Rejection.device_id)
        ).all()
    )
    devices = session.scalars(select(Device).order_by(Device.last_seen_at.desc())).all()
    batches = session.scalars(
        select(SyncBatch).order_by(SyncBatch.received_at.desc()).limit(10)
    )
    products = session.scalars(
        select(Product).order_by(Product.produced_at.desc()).limit(20)
    )
    lots = session.scalars(
        select(CacaoBatch).order_by(CacaoBatch.created_at.desc()).limit(20)
    )
    pending = session.scalar(
        select(func.count()).where(Record.ledger_status == "pending")
    )
    return render_template(
        "dashboard.html",
        volumes=volumes,
        rejected=rejected,
        devices=devices,
        batches=list(batches),
        products=list(products),
        lots=list(lots),
        pending=pending,
    )


@bp.get("/products/<product_id>")
@require()
def product(product_id: str):
    doc = trace.product_trace(db.session(), current_caller(), product_id)
    return render_template("product.html", t=doc, plots=shapes(doc["plots"]))


@bp.get("/lots/<lot_id>")
@require()
def lot(lot_id: str):
    doc = trace.lot_trace(db.session(), current_caller(), lot_id)
    return render_template("lot.html", t=doc, plots=shapes(doc["plots"]))


@bp.get("/suppliers/<int:supplier_id>")
@require()
def supplier(supplier_id: int):
    session = db.session()
    row = session.get(Supplier, supplier_id)
    if row is None:
        raise NotFound(f"no supplier {supplier_id}")
    lots = session.scalars(
        select(CacaoBatch).where(CacaoBatch.supplier_id == supplier_id)
    ).all()
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
        hours = int(request.form.get("ttl_hours", "24") or 24)
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
    villages = sorted({f["village"] for f in doc["farmers"] if f.get("village")})
    return render_template("public.html", t=doc, villages=villages)

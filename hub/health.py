"""Liveness probe for load balancers."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from hub import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    db.session().execute(text("SELECT 1"))
    return {"status": "ok"}

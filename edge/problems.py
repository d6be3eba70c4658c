"""One handler turns every error into an RFC 9457 problem (JSON or a page)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from shared.errors import CocoaError

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


def render_problem(exc: Exception):
    problem = _problem(exc)
    if (
        request.path.startswith("/api/")
        or request.accept_mimetypes.best == "application/json"
    ):
        response = jsonify(problem)
        response.status_code = problem["status"]
        response.mimetype = MEDIA_TYPE
    else:
        page = render_template("problem.html", problem=problem)
        response = make_response(page, problem["status"])
    if "retry_after" in problem:
        response.headers["Retry-After"] = str(problem["retry_after"])
    return response


def _problem(exc: Exception) -> dict:
    if isinstance(exc, CocoaError):
        return exc.to_problem()

    if isinstance(exc, HTTPException):
        code = (exc.name or "error").lower().replace(" ", "-")
        return {
            "type": f"https://cocoa-trace.org/problems/{code}",
            "title": exc.name,
            "status": exc.code or 500,
            "code": code,
            "detail": exc.description,
        }

    log.exception("request.failed", extra={"path": request.path})
    return {
        "type": "https://cocoa-trace.org/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "code": "internal-error",
        "detail": "something went wrong on this device; the log has the details",
    }


def init_app(app: Flask) -> None:
    app.register_error_handler(CocoaError, render_problem)
    app.register_error_handler(HTTPException, render_problem)
    app.register_error_handler(Exception, render_problem)

"""Hub error types and the one handler that renders every error as RFC 9457."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from shared.errors import CocoaError

log = logging.getLogger("hub.errors")
PROBLEM_JSON = "application/problem+json"


class ConfigError(CocoaError):
    status = 500
    code = "config-invalid"
    title = "Hub configuration is invalid"


class DeviceUnknown(CocoaError):
    status = 401
    code = "device-unknown"
    title = "Device is not enrolled"


class DeviceRevoked(CocoaError):
    status = 403
    code = "device-revoked"
    title = "Device is revoked"


class RequestExpired(CocoaError):
    status = 401
    code = "request-expired"
    title = "Request timestamp is too far from the hub clock"


class RequestSignatureInvalid(CocoaError):
    status = 401
    code = "request-signature-invalid"
    title = "Request signature is missing or does not verify"


class EnrollmentTokenInvalid(CocoaError):
    status = 403
    code = "enrollment-token-invalid"
    title = "Enrollment token is unknown, used or expired"


class AttachmentHashMismatch(CocoaError):
    status = 422
    code = "attachment-hash-mismatch"
    title = "Uploaded file does not match its sha256"


class AttachmentMissing(CocoaError):
    status = 404
    code = "attachment-missing"
    title = "No such attachment"


class BlobStoreError(CocoaError):
    status = 503
    code = "blob-store-unavailable"
    title = "File store is unavailable"


class LoginRequired(CocoaError):
    status = 401
    code = "login-required"
    title = "Authentication required"


class LoginThrottled(CocoaError):
    status = 429
    code = "login-throttled"
    title = "Too many failed logins"


class Forbidden(CocoaError):
    status = 403
    code = "forbidden"
    title = "Not allowed for your role or organisation"


class NotFound(CocoaError):
    status = 404
    code = "not-found"
    title = "No such object"


class InvalidInput(CocoaError):
    status = 422
    code = "invalid-input"
    title = "Request body is invalid"


class Conflict(CocoaError):
    status = 409
    code = "conflict"
    title = "Conflicts with the current state"


class CsrfFailed(CocoaError):
    status = 400
    code = "csrf-failed"
    title = "Form expired or was not sent by this site"


class LedgerUnavailable(CocoaError):
    status = 503
    code = "ledger-unavailable"
    title = "Ledger cannot be reached"


def problem_for(exc: Exception) -> dict:
    """The RFC 9457 document for any exception; unknown ones say nothing inside."""
    if isinstance(exc, CocoaError):
        return exc.to_problem()

    if isinstance(exc, HTTPException):
        code = (exc.name or "error").lower().replace(" ", "-")
        return {
            "type": f"https://cocoa-trace.org/problems/{code}",
            "title": exc.name,
            "status": exc.code,
            "code": code,
            "detail": exc.description,
        }

    return {
        "type": "https://cocoa-trace.org/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "code": "internal-error",
        "detail": "the hub failed; the operator can find this request id in its log",
    }


def handle_error(exc: Exception) -> Response:
    """Render any error once: JSON for machine routes, a page for the console."""
    problem = problem_for(exc)
    if problem["status"] >= 500:
        log.error("request.failed", exc_info=exc, extra={"code": problem["code"]})

    if _wants_html() and isinstance(exc, LoginRequired) and request.method == "GET":
        # A logged-out deep link (a bookmark, a shared trace) goes to the login form.
        return redirect(url_for("console.login", next=request.full_path))

    if _wants_html():
        body = render_template("error.html", problem=problem)
        response = Response(body, problem["status"], mimetype="text/html")
    else:
        body = json.dumps(problem)
        response = Response(body, problem["status"], mimetype=PROBLEM_JSON)
    if "retry_after" in problem:
        response.headers["Retry-After"] = str(problem["retry_after"])
    return response


def _wants_html() -> bool:
    if request.path.startswith("/api/"):
        return False

    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "text/html"


def init_app(app: Flask) -> None:
    app.register_error_handler(Exception, handle_error)

"""Edge errors: each a type with a status, a stable code and a human message."""

from __future__ import annotations

from shared.errors import CocoaError


class NotInitialised(CocoaError):
    status = 409
    code = "not-initialised"
    title = "This device has no key yet"


class NotEnrolled(CocoaError):
    status = 409
    code = "not-enrolled"
    title = "This device is not enrolled with a hub"


class UnknownReference(CocoaError):
    status = 422
    code = "unknown-reference"
    title = "The record names something this device does not know"


class AlreadyExists(CocoaError):
    status = 409
    code = "already-exists"
    title = "Something with this id exists already"


class MassExceeded(CocoaError):
    status = 422
    code = "mass-exceeded"
    title = "More grams than remain"


class CsrfFailed(CocoaError):
    status = 400
    code = "csrf-failed"
    title = "The form is stale or did not come from this app"


class NotFound(CocoaError):
    status = 404
    code = "not-found"
    title = "Not found"


class RequestAuthFailed(CocoaError):
    status = 401
    code = "device-unknown"
    title = "The request is not signed by a device this gateway knows"


class RequestExpired(CocoaError):
    status = 401
    code = "request-expired"
    title = "The request signature is too old or from the future"


class NotAGateway(CocoaError):
    status = 404
    code = "not-a-gateway"
    title = "This edge is not enrolled as a gateway"


class SyncBusy(CocoaError):
    status = 409
    code = "sync-busy"
    title = "A sync is already running"


class ImportFileInvalid(CocoaError):
    status = 400
    code = "import-file-invalid"
    title = "The import file cannot be read"


class LoginThrottled(CocoaError):
    status = 429
    code = "login-throttled"
    title = "Too many wrong passwords"


class PasswordRequired(CocoaError):
    status = 409
    code = "password-required"
    title = "Serving on a network address needs an operator password"

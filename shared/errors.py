"""Domain errors: each carries an HTTP status, a stable code and a human message."""

from __future__ import annotations


class CocoaError(Exception):
    """Base of every error the apps turn into an RFC 9457 problem response."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, where: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.where = where
        self.extra = extra

    def to_problem(self) -> dict:
        problem = {
            "type": f"https://cocoa-trace.org/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.where:
            problem["where"] = self.where
        problem.update(self.extra)
        return problem


class SchemaInvalid(CocoaError):
    code = "schema-invalid"
    title = "Record does not match its schema"


class MalformedRecord(CocoaError):
    code = "malformed-record"
    title = "Record bytes are not a canonical record"


class BadSignature(CocoaError):
    code = "bad-signature"
    title = "Signature does not verify"
    status = 422


class MalformedBatch(CocoaError):
    code = "malformed-batch"
    title = "Batch frame cannot be read"


class DeviceKeyError(CocoaError):
    code = "device-key"
    title = "Device key problem"
    status = 500

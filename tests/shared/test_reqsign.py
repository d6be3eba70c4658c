import base64

from shared import reqsign
from shared.keys import DeviceKey

KEY = DeviceKey.from_seed(b"\x07" * 32)
BODY = b'{"x":1}'


def test_a_signed_request_parses_and_verifies():
    header = reqsign.authorization(KEY, "post", "/api/v1/sync/batches?a=1", BODY, 1000)

    signed = reqsign.parse_authorization(header)

    assert signed.device == KEY.device_id
    assert signed.ts == 1000
    assert signed.verifies(KEY.public_raw, "POST", "/api/v1/sync/batches?a=1", BODY)


def test_any_change_to_the_request_breaks_the_signature():
    header = reqsign.authorization(KEY, "POST", "/a?b=1", BODY, 1000)
    signed = reqsign.parse_authorization(header)

    changed = [
        ("GET", "/a?b=1", BODY),
        ("POST", "/a?b=2", BODY),
        ("POST", "/a?b=1", BODY + b" "),
    ]

    assert not any(signed.verifies(KEY.public_raw, *request) for request in changed)


def test_the_signing_string_is_the_documented_one():
    data = reqsign.signing_string("put", "/p?q", 5, b"")

    method, path, ts, body_hash = data.decode().split("\n")
    assert (method, path, ts) == ("PUT", "/p?q", "5")
    # SHA-256 of the empty body.
    assert body_hash == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_freshness_follows_the_allowed_skew():
    signed = reqsign.SignedRequest(KEY.device_id, 1_000_000, b"")

    within = signed.fresh(now=1_000_000 + reqsign.MAX_SKEW_S)
    beyond = signed.fresh(now=1_000_000 + reqsign.MAX_SKEW_S + 1)
    narrower = signed.fresh(now=1_000_061, max_skew_s=60)

    assert within
    assert not beyond
    assert not narrower


def test_absent_or_malformed_headers_read_as_none():
    sig = base64.b64encode(b"s" * 64).decode()
    headers = [
        None,
        "",
        f"Bearer device=d-1,ts=1,sig={sig}",
        f"CocoaDevice ts=1,sig={sig}",
        f"CocoaDevice device=d-1,ts=soon,sig={sig}",
        "CocoaDevice device=d-1,ts=1,sig=not*base64",
    ]

    parsed = [reqsign.parse_authorization(header) for header in headers]

    assert parsed == [None] * len(headers)

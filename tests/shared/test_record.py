import json

import pytest

from shared.errors import BadSignature, MalformedRecord, SchemaInvalid
from shared.keys import DeviceKey, verify
from shared.record import GENESIS, canonical, parse, sign_record
from shared.validation import validate_body

KEY = DeviceKey.from_seed(bytes(range(32)))
HARVEST = {
    "id": "H-1",
    "farmer": "CI-SOU-0001",
    "plot": "CI-SOU-0001-P1",
    "mass_g": 125500,
    "harvested_on": "2026-11-02",
}


def test_signed_record_round_trips_and_verifies():
    rec = sign_record(KEY, "harvest", 1, GENESIS, HARVEST, "2026-11-02T08:00:00Z")

    head = parse(rec.raw)

    assert head.device == KEY.device_id
    assert head.seq == 1
    assert head.body == HARVEST
    assert rec.raw.startswith(b'{"body":{"farmer":"CI-SOU-0001"')
    assert verify(KEY.public_raw, rec.signature, rec.raw)
    assert len(rec.id) == 64


def test_altered_byte_fails_signature():
    rec = sign_record(KEY, "harvest", 1, GENESIS, HARVEST)

    tampered = rec.raw.replace(b"125500", b"925500")

    assert not verify(KEY.public_raw, rec.signature, tampered)


def test_non_canonical_bytes_are_malformed():
    rec = sign_record(KEY, "harvest", 1, GENESIS, HARVEST)
    pretty = json.dumps(json.loads(rec.raw), indent=1).encode()

    with pytest.raises(MalformedRecord, match="canonical"):
        parse(pretty)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seq": 0}, "seq must be a whole number"),
        ({"type": "theft"}, "not one of"),
        ({"prev": "xyz"}, "prev must be 64"),
        ({"time": "yesterday"}, "is not YYYY"),
    ],
)
def test_envelope_faults_are_named(change, message):
    doc = {"v": 1, "type": "harvest", "device": KEY.device_id, "seq": 1,
           "prev": GENESIS, "time": "2026-11-02T08:00:00Z", "body": HARVEST}
    doc.update(change)

    with pytest.raises(MalformedRecord, match=message):
        parse(canonical(doc))


def test_first_record_must_start_the_chain():
    with pytest.raises(MalformedRecord, match="first record"):
        sign_record(KEY, "harvest", 1, "a" * 64, HARVEST)


def test_schema_error_names_the_field():
    body = dict(HARVEST, mass_g=-3)

    with pytest.raises(SchemaInvalid) as err:
        validate_body("harvest", body)

    assert err.value.where == "body.mass_g"
    assert "mass_g" in err.value.detail


def test_every_schema_rejects_unknown_fields():
    with pytest.raises(SchemaInvalid, match="must not contain"):
        validate_body("sale", {"id": "S-1", "batch": "B-1", "units": 1, "price": 3})


def test_problem_document_has_code_and_where():
    problem = SchemaInvalid("harvest: body.mass_g must be bigger", where="body.mass_g").to_problem()

    assert problem["code"] == "schema-invalid"
    assert problem["where"] == "body.mass_g"
    assert problem["status"] == 400
    assert BadSignature("x").status == 422

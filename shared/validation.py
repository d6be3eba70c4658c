"""Payload validation against shared/schemas/<type>.json, at the edge and at the hub."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Callable

import fastjsonschema

from shared.errors import SchemaInvalid
from shared.record import TYPES


@cache
def schema(rtype: str) -> dict:
    text = resources.files("shared.schemas").joinpath(f"{rtype}.json").read_text()
    return json.loads(text)


@cache
def _validator(rtype: str) -> Callable[[dict], dict]:
    return fastjsonschema.compile(schema(rtype))


def validate_body(rtype: str, body: dict) -> None:
    """Raise SchemaInvalid naming the field at fault when `body` does not fit `rtype`."""
    if rtype not in TYPES:
        raise SchemaInvalid(f"unknown record type {rtype!r}", where="type")

    try:
        _validator(rtype)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = _pointer(exc.path)
        raise SchemaInvalid(f"{rtype}: {where or 'body'} {_explain(exc)}", where=where) from None


def _pointer(path: list) -> str:
    # fastjsonschema paths start with the name "data" for the root.
    parts = [str(p) for p in path[1:]]
    return "body." + ".".join(parts) if parts else "body"


def _explain(exc: fastjsonschema.JsonSchemaValueException) -> str:
    message = exc.message
    # Its messages start with "data.x must ..."; keep only what follows the name.
    head, sep, tail = message.partition(" must ")
    return ("must " + tail) if sep else message

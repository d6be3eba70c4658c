"""Schema errors in the words and units of the form a person typed into.

The schemas speak in grams and regular expressions; a person at a form typed
kilograms and a code. This turns a SchemaInvalid raised while signing a form's
body into a sentence about that field.
"""

from __future__ import annotations

import re

from shared.errors import SchemaInvalid

# Fields a form takes in kilograms while the record carries grams.
GRAM_FIELDS = frozenset({"mass_g"})
_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)")


def plain(exc: SchemaInvalid) -> str:
    """One plain sentence for a schema error, in kg where the form asks kg."""
    detail = exc.detail or ""
    tail = detail.partition(" must ")[2]
    rule = tail.removeprefix("be ")
    if not tail:
        return detail

    bound = _bound(rule)
    unit = ""
    if (exc.where or "").split(".")[-1] in GRAM_FIELDS and bound is not None:
        unit = " kg"
        rule = _NUMBER.sub(_kg(bound), rule, count=1)
    return _sentence(rule, bound, unit) or "must " + tail


def _bound(rule: str) -> float | None:
    if not rule.startswith(("smaller", "bigger", "longer", "shorter")):
        return None
    found = _NUMBER.search(rule)
    return float(found.group(1)) if found else None


def _kg(grams: float) -> str:
    from edge.forms import format_kg

    return format_kg(grams)


def _sentence(rule: str, bound: float | None, unit: str) -> str | None:
    if rule.startswith("match pattern"):
        return (
            "use only letters, digits and . _ : / - (starting with a letter or a "
            "digit, no spaces)"
        )
    if rule.startswith("smaller than or equal to"):
        return (
            "must be at most " + rule.removeprefix("smaller than or equal to ") + unit
        )
    if rule.startswith("bigger than or equal to"):
        return (
            "must be at least " + rule.removeprefix("bigger than or equal to ") + unit
        )
    if rule.startswith("shorter than or equal to"):
        return f"is too long: at most {bound:g} characters"
    if rule.startswith("longer than or equal to"):
        return f"is too short: at least {bound:g} characters"
    if rule.startswith("one of"):
        return "choose one of the values offered"
    return None

import pytest

from edge.forms import format_kg
from edge.wording import plain
from shared.errors import SchemaInvalid
from shared.validation import validate_body

PURCHASE = {
    "id": "P-1",
    "farmer": "F-1",
    "plot": "F-1-P1",
    "mass_g": 1000,
    "grade": "grade-1",
    "price": 1,
    "currency": "XOF",
}


def _error(**changes) -> SchemaInvalid:
    with pytest.raises(SchemaInvalid) as caught:
        validate_body("purchase", PURCHASE | changes)
    return caught.value


def test_a_gram_bound_is_said_in_kilograms():
    error = _error(mass_g=100_000_000_001)

    message = plain(error)

    assert message == "must be at most 100,000,000 kg"


def test_a_pattern_is_said_in_words():
    error = _error(id="P 1")

    message = plain(error)

    assert "^" not in message
    assert "no spaces" in message


@pytest.mark.parametrize(
    ("grams", "shown"),
    [(50_000_000_000, "50,000,000"), (1234, "1.2"), (12_500, "12.5"), (1000, "1")],
)
def test_kilograms_are_grouped_with_at_most_one_decimal(grams, shown):
    assert format_kg(grams) == shown

import random

import pytest
import rfc8785

from shared.errors import MalformedRecord
from shared.record import canonical

ALPHABET = 'aZ09 "\\/\n\t\x00\x1f\x7fé€ñ😀\u2028<>&\''


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(8)))
    if kind == 1:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([0.5, 1.0, 1e21, 1e-7, -0.0, 123.456, 5.4033466])
    if kind == 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["a", "b", "Z", "é", "€", "😀", "aa", "_"]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_fast_path_matches_the_reference_encoder():
    rng = random.Random(8785)

    for _ in range(3000):
        value = {"body": random_value(rng), "seq": rng.randrange(1, 10**9)}

        assert canonical(value) == rfc8785.dumps(value)


def test_floats_take_the_full_encoder():
    assert canonical({"x": 1.0, "y": 1e21}) == b'{"x":1,"y":1e+21}'


def test_out_of_range_integer_is_malformed():
    with pytest.raises(MalformedRecord, match="canonical"):
        canonical({"n": 2**60})

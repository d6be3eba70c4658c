"""The conformance vectors against shared.journey (the Go tests run the same files)."""

import pytest

from shared.conformance import load, run_scenario, scenario_files

SCENARIOS = scenario_files()
REQUIRED = {
    "happy-journey",
    "mass-balance",
    "forged-signature",
    "revoked-device",
    "replayed-event",
    "chain-gap",
    "out-of-order",
    "sale-twice",
    "processing-not-held",
}


def test_every_required_scenario_is_generated():
    names = {load(path)["name"] for path in SCENARIOS}

    missing = REQUIRED - names

    assert not missing, f"run python -m shared.conformance.generate; missing {missing}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_outcomes(path):
    scenario = load(path)

    got, _ = run_scenario(scenario)

    for step, result in zip(scenario["steps"], got, strict=True):
        where = f"step {result['step']} ({step['op']})"
        assert result["got"] == step["expect"], where


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_final_state(path):
    scenario = load(path)

    _, state = run_scenario(scenario)

    for key, fields in scenario["expect_state"].items():
        value = state.get(key)
        assert value is not None, f"{key} is not in the state"
        assert {f: value.get(f) for f in fields} == fields, key


def test_vectors_match_their_generator(tmp_path):
    from shared.conformance.generate import main

    main([str(tmp_path)])

    for path in SCENARIOS:
        fresh = (tmp_path / path.name).read_text()
        assert fresh == path.read_text(), f"{path.name} is stale: regenerate it"

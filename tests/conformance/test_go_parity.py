"""The chaincode and shared.journey end every scenario with the same state."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.conformance import load, run_scenario, scenario_files

CHAINCODE = Path(__file__).resolve().parents[2] / "chaincode"


@pytest.fixture(scope="module")
def go_states(tmp_path_factory):
    """Run the Go conformance test once, dumping each scenario's final state."""
    go = shutil.which("go")
    if go is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Go toolchain is not installed; the parity test needs it")
        pytest.skip("the Go toolchain is not installed")

    out = tmp_path_factory.mktemp("go-states")
    env = os.environ | {"COCOA_CONFORMANCE_STATE_DIR": str(out)}
    run = subprocess.run(
        [go, "test", "-count=1", "-run", "TestConformance", "./..."],
        check=False,
        cwd=CHAINCODE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_same_final_state_as_the_chaincode(path, go_states):
    scenario = load(path)

    _, state = run_scenario(scenario)

    ours = {k: v for k, v in state.values.items() if not k.startswith("pvt/")}
    theirs = json.loads((go_states / f"{scenario['name']}.json").read_text())
    assert sorted(ours) == sorted(theirs)
    for key in sorted(ours):
        assert ours[key] == theirs[key], key

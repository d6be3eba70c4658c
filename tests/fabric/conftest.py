"""Session fixture: a real local Fabric network, started once and torn down after."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
from collections import deque
from pathlib import Path

import pytest

from tests.fabric.network import FabricNetwork

ROOT = Path(__file__).resolve().parents[2]
NETWORK_SH = ROOT / "provisioning" / "fabric" / "network.sh"
# Away from network.sh's own default, so a developer's network can keep running.
TEST_PORT_BASE = "27050"
UP_TIMEOUT_S = 1800
TAIL_LINES = 40


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing_prerequisite() -> str | None:
    for tool in ("go", "curl", "tar", "setsid"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed; the Fabric network is built from source"

    if not (ROOT / "chaincode" / "go.mod").exists():
        return "chaincode/ is not in this checkout; the network deploys it"

    return None


@pytest.fixture(scope="session")
def fabric_network(request, tmp_path_factory):
    """Run `network.sh up`, yield its connection facts, run `network.sh down`."""
    problem = missing_prerequisite()
    if problem and in_ci():
        pytest.fail(f"Fabric network cannot start: {problem}")
    if problem:
        pytest.skip(problem)

    run_dir = tmp_path_factory.mktemp("fabric") / "network"
    env = _network_env(run_dir)
    progress = _progress_printer(request.config)
    logs = tmp_path_factory.getbasetemp() / "fabric-logs"

    started = _network_sh("up", env, progress)
    if started is not None:
        # A failed `up` leaves its processes for inspection; stop them here.
        _keep_logs(run_dir, logs)
        _network_sh("down", env, progress)
        pytest.fail(f"{started}\nnode logs kept in {logs}", pytrace=False)
    yield FabricNetwork.load(run_dir / "network.json")

    _keep_logs(run_dir, logs)
    stopped = _network_sh("down", env, progress)
    if stopped is not None:
        pytest.fail(stopped, pytrace=False)


@pytest.fixture(scope="session")
def fabric_define(request, fabric_network):
    """A function that commits chaincode definitions: `fabric_define(*names)`."""
    env = _network_env(fabric_network.run_dir)
    progress = _progress_printer(request.config)

    def define(*names: str) -> None:
        failed = _network_sh("define", env, progress, *names)
        if failed is not None:
            pytest.fail(failed, pytrace=False)

    return define


def _network_env(run_dir: Path) -> dict[str, str]:
    return os.environ | {
        "COCOA_FABRIC_RUN": str(run_dir),
        "COCOA_FABRIC_PORT_BASE": os.environ.get(
            "COCOA_FABRIC_PORT_BASE", _free_port_block()
        ),
    }


@functools.cache
def _free_port_block() -> str:
    """The first block of 30 loopback ports from TEST_PORT_BASE that nothing holds.

    Chosen once per session: later calls (define, down) must find the same network.

    A fixed block breaks when another run (a developer's network, a second test
    session) already listens there; the network uses offsets 0 to 23 of its base.
    """
    for base in range(int(TEST_PORT_BASE), 60000, 100):
        if all(_port_free(base + offset) for offset in range(30)):
            return str(base)
    raise RuntimeError(f"no free block of 30 ports from {TEST_PORT_BASE} up")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _progress_printer(config):
    """Print to the terminal past pytest's output capture, which holds fixtures'."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def show(line: str) -> None:
        if reporter is None or capture is None:
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"fabric: {line}")

    return show


def _network_sh(command: str, env: dict, progress, *args: str) -> str | None:
    """Run network.sh, echo its progress; on failure, a message with the tail."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with subprocess.Popen(
        [str(NETWORK_SH), command, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        for line in proc.stdout:
            tail.append(line.rstrip())
            progress(line.rstrip())
        status = proc.wait(timeout=UP_TIMEOUT_S)

    if status == 0:
        return None

    lines = "\n".join(tail)
    return f"network.sh {command} failed with exit status {status}:\n{lines}"


def _keep_logs(run_dir: Path, target: Path) -> None:
    """Copy the node logs out before `down` removes them, for a post-mortem."""
    logs = run_dir / "logs"
    if logs.is_dir():
        shutil.copytree(logs, target, dirs_exist_ok=True)

"""Run real server processes from tests: free ports, readiness waits, log capture."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_TAIL_LINES = 40


class ServerUnavailable(RuntimeError):
    """A server the tests need could not be started."""


def in_ci() -> bool:
    """Tell whether this run is CI, where a missing server is a failure."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere, with the reason a server is missing."""
    if in_ci():
        pytest.fail(reason, pytrace=False)

    pytest.skip(reason)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on host that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def http_ready(url: str) -> bool:
    """Tell whether url answers HTTP at all (any status counts as up)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll check until it returns true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True

        time.sleep(interval)

    return check()


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Wait until url answers HTTP; raise ServerUnavailable after timeout seconds."""
    if not wait_for(lambda: http_ready(url), timeout):
        raise ServerUnavailable(f"{url} did not answer within {timeout:.0f}s")


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last lines of a log file, or a note when it is missing."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc.strerror})"

    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ServerProcess:
    """A command run as a separate process whose output goes to a log file."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    ready_url: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the process and wait until it is ready, or raise with its log tail."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(self.env or {})}
        with self.log_path.open("ab") as log:
            # A new session lets stop() signal the whole group, children included.
            self.proc = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        if self.ready_url and not wait_for(self._ready, timeout):
            self.stop()
            raise ServerUnavailable(self.failure(f"not ready within {timeout:.0f}s"))

        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise ServerUnavailable(self.failure(f"exited with {self.proc.returncode}"))

        return http_ready(self.ready_url or "")

    def failure(self, what: str) -> str:
        """Describe a failure of this server, with the tail of its log."""
        return f"{self.name} {what}; log {self.log_path}:\n{tail(self.log_path)}"

    @property
    def running(self) -> bool:
        """Tell whether the process is still alive."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate the process group (SIGTERM, then SIGKILL) and return its code."""
        if self.proc is None:
            return None

        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(timeout)

        return self.proc.returncode

    def kill(self) -> None:
        """Kill the process group at once, as a crash would (SIGKILL)."""
        if self.proc is not None and self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait()

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

"""`python -m bench` runs end to end on a small load and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
@pytest.mark.postgres
def test_quick_run_prints_every_section(postgres_url):
    command = [sys.executable, "-m", "bench", "--records", "400", "--batch", "50"]

    done = subprocess.run(
        [*command, "--no-edge"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "| hub ingest end to end | sqlite |" in done.stdout
    assert "| insert only (no checks) | sqlite |" in done.stdout
    assert "| hub ingest end to end | postgresql |" in done.stdout
    assert "| 50 |" in done.stdout
    assert "[bench] verify-only baseline" in done.stderr

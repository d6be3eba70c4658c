"""Fixtures for the edge's tests: a fresh device home per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.config import EdgeConfig
from edge.context import EdgeContext, init_device

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture
def edge_config(tmp_path) -> EdgeConfig:
    return EdgeConfig(home=tmp_path / "edge", scheduler=False, testing=True)


@pytest.fixture
def ctx(edge_config) -> EdgeContext:
    init_device(edge_config, None, "test tablet")
    context = EdgeContext.open(edge_config)
    yield context
    context.engine.dispose()


@pytest.fixture
def farmer_and_plot(ctx):
    """A registered farmer with one mapped plot."""
    ctx.append("farmer", {"id": "F-1", "name": "Ama Kouassi"})
    ctx.append(
        "plot",
        {
            "id": "F-1-P1",
            "farmer": "F-1",
            "geometry": {"type": "Point", "coordinates": [-6.58, 5.40]},
            "gps_accuracy_m": 5,
            "declared_area_ha": 2.0,
        },
    )
    return "F-1", "F-1-P1"


def shared_dir() -> Path:
    """The read-only reference material beside the repository; skip when absent."""
    if SHARED.is_dir():
        return SHARED
    if os.environ.get("CI") == "true":
        pytest.fail(f"reference material missing at {SHARED} (required under CI)")
    pytest.skip(f"reference material not found at {SHARED}")


@pytest.fixture
def hub():
    """A fake hub on a real loopback HTTP server."""
    from tests.edge.fakehub import FakeHub, ServerThread

    fake = FakeHub()
    with ServerThread(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def enrolled(ctx, hub):
    """The test device, enrolled as a tablet with the fake hub."""
    from edge.enroll import enroll

    enroll(ctx, hub.url, "good-token", "tablet")
    return ctx

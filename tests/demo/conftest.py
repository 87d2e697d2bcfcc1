"""Shared demo datasets: generated once per test session into temporary folders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from cxw_demo.config import SimulationConfig
from cxw_demo.generate import generate
from cxw_demo.world import World, build_world

SMALL = {"customers": 300, "start": "2026-01-01", "end": "2026-01-31", "seed": 11}


@pytest.fixture(scope="session")
def small_params() -> dict[str, Any]:
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """About a month of a small shop, written to disk in every source format."""
    out = tmp_path_factory.mktemp("demo_small")
    manifest = generate(out, **SMALL)  # type: ignore[arg-type]
    return out, manifest


@pytest.fixture(scope="session")
def medium_world() -> World:
    """A year of a mid-sized shop, in memory only: enough rows for behavioural averages."""
    config = SimulationConfig(
        customers=4000, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), seed=5
    )
    return build_world(config)

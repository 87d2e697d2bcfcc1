"""Shared fixtures: every test gets its own CXW_HOME so nothing touches the user's data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture
def cxw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cxw"
    monkeypatch.setenv("CXW_HOME", str(home))
    return home


def require_service(name: str, available: bool, reason: str) -> None:
    """Skip where a machine service (PostgreSQL, Redis) is absent; fail in CI, which has it."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI but unavailable: {reason}")
    pytest.skip(f"{name} unavailable here: {reason}")

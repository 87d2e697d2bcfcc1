"""The reports a user opens after a build: key numbers and the static CX dashboard,
rendered by a real browser (headless Chromium from Debian's `chromium` package)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cxw.reports import build_dashboard, key_numbers

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required in CI (apt-get install chromium) but not installed")
    pytest.skip("chromium not installed here (apt-get install chromium)")


def test_key_numbers_match_the_service_mart(built: Path) -> None:
    numbers = key_numbers(built)
    assert numbers["tickets"] == 2
    assert numbers["first_reply_minutes_median"] == 3870  # only ticket 1 has a reply
    assert numbers["csat_pct"] == 100
    assert numbers["first_reply_sla_breach_rate"] == 0.5


def test_dashboard_renders_its_charts_with_data_in_a_browser(
    built: Path, tmp_path: Path
) -> None:
    page = build_dashboard(built, tmp_path / "reports")
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    charts = dict(re.findall(r'data-chart="(\w+)" data-points="(\d+)"', done.stdout))
    assert set(charts) == {
        "nps_csat_trend", "first_reply_by_channel", "backlog", "cohort_retention",
        "service_impact",
    }
    assert int(charts["first_reply_by_channel"]) == 2  # email median and p90
    assert int(charts["backlog"]) > 0
    assert "http://" not in page.read_text() and "https://" not in page.read_text()

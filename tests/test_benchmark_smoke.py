"""The benchmark runs end to end on two tiny companies (its cost-curve mode) and writes
its JSON. No timing assertions: machines differ; this only checks that every stage is
measured, with the peak memory of its own process, and that the curve is drawn."""

from __future__ import annotations

import json
import subprocess
import sys
from numbers import Real
from pathlib import Path

from cxw.settings import PROJECT_DIR

STAGES = [
    "extract helpdesk",
    "extract web",
    "extract orders",
    "extract surveys",
    "dbt build",
    "validate marts",
    "publish",
    "reports",
]
SIZES = [10, 20]
POINT_FIELDS = (
    "full_history_seconds",
    "full_history_peak_rss_mib",
    "full_history_landed_rows",
    "increment_seconds",
    "increment_peak_rss_mib",
    "increment_landed_rows",
    "generation_peak_rss_mib",
)
GROWTH_FIELDS = (
    "full_history_seconds_exponent",
    "full_history_peak_rss_mib_exponent",
    "increment_seconds_exponent",
    "increment_peak_rss_mib_exponent",
    "full_history_seconds_exponent_vs_landed_rows",
    "increment_seconds_exponent_vs_landed_rows",
)


def check_run(results: dict) -> None:
    """One size's results: every stage measured, in its own process."""
    for run in ("full_history", "increment"):
        assert [stage["name"] for stage in results[run]] == STAGES
        for stage in results[run]:
            for key in ("seconds", "rows", "rows_per_second", "peak_rss_mib"):
                assert isinstance(stage[key], Real) and stage[key] >= 0, (run, stage)
            assert stage["peak_rss_mib"] > 0, (run, stage)
    assert isinstance(results["increment_fraction"], Real)
    assert results["slowest_stage"] in STAGES
    assert "stage's own process" in results["memory_method"]
    for cut in ("history", "next_day"):
        assert results["generation"][cut]["peak_rss_mib"] > 0
        assert results["generation"][cut]["counts"]["ga4"]["events"] > 0
    floor = results["floor"]
    assert floor["read_all_landed"]["rows"] > 0
    assert floor["headline_query"]["tickets"] >= 0
    # dbt over its own compiled SQL, for the full build and the day (None: dbt ran nothing).
    assert set(floor["dbt_build_x_own_sql"]) == {"full", "day"}
    assert floor["dbt_build_x_own_sql"]["full"] > 0
    assert floor["own_sql_seconds"]["full"] > 0
    assert set(floor["dbt_nodes"]) == {"full", "day"}
    assert floor["dbt_nodes"]["full"]["test"] > 0
    assert floor["dbt_nodes"]["full"]["model:view"] > 0


def test_benchmark_draws_the_cost_curve_over_two_tiny_companies(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [
        sys.executable, "-m", "benchmarks.run", "--sizes", ",".join(map(str, SIZES)),
        "--days", "5", "--out", str(out), "--scratch", str(tmp_path / "scratch"),
    ]
    done = subprocess.run(
        command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=1800, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(out.read_text())
    assert [run["customers"] for run in results["runs"]] == SIZES
    for run in results["runs"]:
        check_run(run)
    assert [point["customers"] for point in results["curve"]] == SIZES
    for point in results["curve"]:
        for key in POINT_FIELDS:
            assert isinstance(point[key], Real) and point[key] > 0, (key, point)
    [step] = results["growth"]
    assert (step["from_customers"], step["to_customers"]) == tuple(SIZES)
    for key in GROWTH_FIELDS:
        assert step[key] is None or isinstance(step[key], Real), (key, step)
    assert step["full_history_seconds_exponent"] is not None
    assert "slowest stage" in done.stdout
    assert "Growth exponents" in done.stdout

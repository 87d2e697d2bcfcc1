"""The benchmark runs end to end on a tiny company and writes its JSON. No timing
assertions: machines differ; this only checks that every stage is measured."""

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


def test_benchmark_emits_every_stage_on_a_tiny_company(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [
        sys.executable, "-m", "benchmarks.run", "--customers", "20", "--days", "5",
        "--out", str(out), "--scratch", str(tmp_path / "scratch"),
    ]
    done = subprocess.run(
        command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(out.read_text())
    for run in ("full_history", "increment"):
        assert [stage["name"] for stage in results[run]] == STAGES
        for stage in results[run]:
            for key in ("seconds", "rows", "rows_per_second", "peak_rss_mib"):
                assert isinstance(stage[key], Real) and stage[key] >= 0, (run, stage)
            assert stage["peak_rss_mib"] > 0, (run, stage)
    assert isinstance(results["increment_fraction"], Real)
    assert results["slowest_stage"] in STAGES
    floor = results["floor"]
    assert floor["read_all_landed"]["rows"] > 0
    assert floor["headline_query"]["tickets"] >= 0
    # dbt over its own compiled SQL, for the full build and the day (None: dbt ran nothing).
    assert set(floor["dbt_build_x_own_sql"]) == {"full", "day"}
    assert floor["dbt_build_x_own_sql"]["full"] > 0
    assert floor["own_sql_seconds"]["full"] > 0
    assert "slowest stage" in done.stdout

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from cxw import mart_validation, pipeline
from cxw.mart_validation import MartsRejected, mart_suites, validate_marts
from cxw.settings import Settings
from cxw.validation import load_suite


def make_warehouse(path: Path, csat_pct: float) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema service")
        connection.execute(
            "create table service.agents as select 10::bigint as agent_id, 'Ana' as agent_name, "
            "'Support' as group_name, 3::bigint as tickets_solved, "
            "12.5::double as first_reply_minutes_median, "
            "60.0::double as full_resolution_minutes_median, "
            f"{csat_pct}::double as csat_pct, 0.5::double as one_touch_resolution_rate, "
            "0.25::double as next_reply_sla_breach_rate, 0.5::double as sla_breach_rate, "
            "90.0::double as requester_wait_minutes_median"
        )
    return path


def test_every_mart_suite_loads_completely() -> None:
    assert "service.tickets" in mart_suites()
    for suite in mart_suites().values():
        spec = json.loads(suite.read_text())
        assert len(load_suite(suite).expectations) == len(spec["expectations"])


def test_a_suite_with_an_unknown_expectation_is_refused(tmp_path: Path) -> None:
    suite = tmp_path / "broken.json"
    suite.write_text(json.dumps({
        "name": "broken",
        "expectations": [
            {"type": "expect_column_values_to_be_wonderful", "kwargs": {"column": "x"}}
        ],
    }))
    with pytest.raises(ValueError, match="wonderful"):
        load_suite(suite)


def test_good_marts_pass_and_results_are_kept(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", csat_pct=80)
    reports = validate_marts(warehouse, tmp_path / "results")
    assert set(reports) == {"service.agents"}, "marts not built are skipped"
    assert json.loads((tmp_path / "results" / "service.agents.json").read_text())["success"]


def test_a_bad_mart_is_rejected_naming_table_rule_and_row(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", csat_pct=180)
    with pytest.raises(MartsRejected) as caught:
        validate_marts(warehouse, tmp_path / "results")
    message = str(caught.value)
    assert "service.agents" in message and "csat_pct" in message and "180" in message


def test_only_marts_changed_since_their_last_passing_validation_are_validated(
    tmp_path: Path,
) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", csat_pct=80)
    results = tmp_path / "results"
    assert set(validate_marts(warehouse, results)) == {"service.agents"}
    assert validate_marts(warehouse, results) == {}, "the same rows: not validated again"
    assert set(validate_marts(warehouse, results, every=True)) == {"service.agents"}

    with duckdb.connect(str(warehouse)) as connection:  # the next build changes one value
        connection.execute("update service.agents set tickets_solved = 4")
    assert set(validate_marts(warehouse, results)) == {"service.agents"}


def test_a_mart_that_failed_is_validated_again_until_it_passes(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", csat_pct=180)
    results = tmp_path / "results"
    for _ in range(2):  # unchanged, but it failed: still checked, still rejected
        with pytest.raises(MartsRejected, match="csat_pct"):
            validate_marts(warehouse, results)


def test_a_suite_with_run_time_parameters_is_validated_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A suite that reads a `$PARAMETER` can give another verdict on the same rows in a
    # later run, so it is never skipped as unchanged (here the marker sits in its meta).
    spec = json.loads(mart_suites()["service.agents"].read_text())
    spec["meta"] = {**spec.get("meta", {}), "notes": "bounds from $PARAMETER at run time"}
    suite = tmp_path / "agents.json"
    suite.write_text(json.dumps(spec))
    monkeypatch.setattr(mart_validation, "mart_suites", lambda: {"service.agents": suite})
    warehouse = make_warehouse(tmp_path / "w.duckdb", csat_pct=80)
    results = tmp_path / "results"
    for _ in range(2):
        assert set(validate_marts(warehouse, results)) == {"service.agents"}


# -- a mart bigger than the chunk: validated a chunk at a time --------------------------

AGENTS = 5_000  # rows of the big agents mart; chunks of 2,048 rows (one DuckDB vector)
CHUNK = 2_048


def make_big_warehouse(path: Path, *, bad_csat_of: int | None = None,
                       duplicate_of: int | None = None) -> Path:
    """service.agents with agents 1..5,000 in that order: three chunks of 2,048, 2,048
    and 904 rows. ``bad_csat_of`` gets csat_pct 180; ``duplicate_of`` takes agent 1's id
    (agent 1 is in the first chunk, agents past 4,096 in the third)."""
    make_warehouse(path, csat_pct=80)
    with duckdb.connect(str(path)) as connection:
        connection.execute("set threads = 1")  # rows stored, and so read, in this order
        connection.execute(
            "create or replace table service.agents as "
            "select * replace ("
            "  case when n = ? then 1 else n end::bigint as agent_id,"
            "  case when n = ? then 180.0 else 80.0 end::double as csat_pct) "
            "from (select range + 1 as n from range(?)) as numbers, "
            "(select * from service.agents) as one_agent order by n",
            [duplicate_of, bad_csat_of, AGENTS],
        )
        connection.execute("alter table service.agents drop column n")
    return path


def frames_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row count of every frame handed to GX."""
    seen: list[int] = []
    validate_frame = mart_validation.validate_frame

    def counting(frame, *args, **kwargs):
        seen.append(len(frame))
        return validate_frame(frame, *args, **kwargs)

    monkeypatch.setattr(mart_validation, "validate_frame", counting)
    return seen


def test_a_mart_bigger_than_the_chunk_is_validated_chunk_by_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = frames_seen(monkeypatch)
    warehouse = make_big_warehouse(tmp_path / "w.duckdb")
    reports = validate_marts(warehouse, tmp_path / "results", chunk_rows=CHUNK)
    assert reports["service.agents"].success
    assert reports["service.agents"].row_count == AGENTS
    assert seen == [2_048, 2_048, 904], "every row seen once, never more than a chunk held"
    kept = json.loads((tmp_path / "results" / "service.agents.json").read_text())
    assert kept["success"] and len(kept["chunks"]) == 3


def test_a_bad_row_in_a_later_chunk_rejects_the_mart(tmp_path: Path) -> None:
    warehouse = make_big_warehouse(tmp_path / "w.duckdb", bad_csat_of=4_500)
    with pytest.raises(MartsRejected) as caught:
        validate_marts(warehouse, tmp_path / "results", chunk_rows=CHUNK)
    message = str(caught.value)
    assert "service.agents (5000 rows)" in message
    assert "csat_pct" in message and "180" in message and "(1 rows)" in message


def test_a_key_repeated_in_two_chunks_rejects_the_mart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Agent 4,500 (third chunk) has agent 1's id (first chunk): each chunk alone is
    # unique, so only the check over the whole mart can see it.
    seen = frames_seen(monkeypatch)
    warehouse = make_big_warehouse(tmp_path / "w.duckdb", duplicate_of=4_500)
    with pytest.raises(MartsRejected) as caught:
        validate_marts(warehouse, tmp_path / "results", chunk_rows=CHUNK)
    message = str(caught.value)
    assert "expect_column_values_to_be_unique(column='agent_id') (2 rows)" in message
    assert "'agent_id': 1, 'copies': 2" in message
    assert len(seen) == 3
    kept = json.loads((tmp_path / "results" / "service.agents.json").read_text())
    assert all(chunk["success"] for chunk in kept["chunks"]), "no chunk alone sees it"
    assert kept["across"]["results"][0]["unexpected_count"] == 2


def test_a_mart_within_the_chunk_is_validated_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = frames_seen(monkeypatch)
    warehouse = make_big_warehouse(tmp_path / "w.duckdb", duplicate_of=4_500)
    with pytest.raises(MartsRejected, match="agent_id"):
        validate_marts(warehouse, tmp_path / "results", chunk_rows=AGENTS)
    assert seen == [AGENTS]


# -- a day's changed mart: only the rows not in the copy that last passed ---------------


def published_day_one(monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, list[int]]:
    """Day one through the pipeline's own calls: the big agents mart built, validated
    (every row, in chunks) and published."""
    settings = Settings.from_env()
    settings.warehouse_path.parent.mkdir(parents=True)
    make_big_warehouse(settings.warehouse_path)
    seen = frames_seen(monkeypatch)
    monkeypatch.setenv("CXW_MART_VALIDATION_CHUNK_ROWS", str(CHUNK))
    assert pipeline.validate_marts() == {"service.agents": True}
    assert seen == [2_048, 2_048, 904]
    pipeline.publish()
    seen.clear()
    return settings, seen


def next_build(settings: Settings, *statements: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        for statement in statements:
            connection.execute(statement)


def test_a_changed_mart_has_only_its_new_rows_checked(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, seen = published_day_one(monkeypatch)
    # Day two: agent 4,999 solved one more ticket; agent 5,001 is new: 2 rows to check.
    next_build(
        settings,
        "update service.agents set tickets_solved = tickets_solved + 1 where agent_id = 4999",
        "insert into service.agents select * replace (5001::bigint as agent_id) "
        "from service.agents where agent_id = 1",
    )
    assert pipeline.validate_marts() == {"service.agents": True}
    assert seen == [2]
    kept = json.loads((settings.reports_dir / "validation" / "marts" /
                       "service.agents.json").read_text())
    assert kept["row_count"] == 5_001 and kept["checked"].startswith("the 2 rows")


def test_a_new_bad_row_or_a_new_duplicate_key_is_still_rejected(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, seen = published_day_one(monkeypatch)
    next_build(settings, "update service.agents set csat_pct = 180 where agent_id = 17")
    with pytest.raises(MartsRejected, match=r"csat_pct.*\(1 rows\)"):
        pipeline.validate_marts()
    assert seen == [1]
    # Agent 5,001 is new and fine on its own, but takes agent 1's (unchanged) id.
    next_build(
        settings,
        "update service.agents set csat_pct = 80 where agent_id = 17",
        "insert into service.agents select * replace (80.5::double as csat_pct) "
        "from service.agents where agent_id = 1",
    )
    with pytest.raises(MartsRejected, match=r"agent_id'\) \(2 rows\)"):
        pipeline.validate_marts()


def test_a_published_copy_that_is_not_the_last_validated_one_is_not_trusted(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, seen = published_day_one(monkeypatch)
    # Someone (or a failed run) changed the published file after it was validated: its
    # rows are not known to pass, so the next changed mart is checked whole.
    with duckdb.connect(str(settings.published_path)) as connection:
        connection.execute("update service.agents set csat_pct = 180 where agent_id = 9")
    next_build(settings, "update service.agents set tickets_solved = 9 where agent_id = 1")
    assert pipeline.validate_marts() == {"service.agents": True}
    assert seen == [2_048, 2_048, 904]


def test_a_suite_about_the_whole_table_gets_every_row_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A row count (like nps_drivers' six drivers) or a `mostly` share cannot be judged a
    # chunk at a time, nor on a day's changed rows.
    assert [table for table, suite in mart_suites().items()
            if not mart_validation.judged_row_by_row(suite)] == ["experience.nps_drivers"]
    spec = json.loads(mart_suites()["service.agents"].read_text())
    spec["expectations"].append(
        {"type": "expect_table_row_count_to_equal", "kwargs": {"value": AGENTS}}
    )
    suite = tmp_path / "agents.json"
    suite.write_text(json.dumps(spec))
    monkeypatch.setattr(mart_validation, "mart_suites", lambda: {"service.agents": suite})
    seen = frames_seen(monkeypatch)
    warehouse = make_big_warehouse(tmp_path / "w.duckdb")
    assert validate_marts(warehouse, tmp_path / "results", chunk_rows=CHUNK)[
        "service.agents"].success
    assert seen == [AGENTS]


def test_a_published_file_someone_holds_read_write_does_not_stop_validation(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An analyst's DuckDB CLI opens files read-write by default: the published copy can't
    # be attached then, so the changed mart is checked whole instead of failing the run.
    import subprocess
    import sys

    settings, seen = published_day_one(monkeypatch)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; "
         f"c = duckdb.connect({str(settings.published_path)!r}); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        next_build(settings, "update service.agents set tickets_solved = 9 where agent_id = 1")
        assert pipeline.validate_marts() == {"service.agents": True}
        assert seen == [2_048, 2_048, 904]
    finally:
        holder.communicate("")

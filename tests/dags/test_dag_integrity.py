"""Every DAG in dags/ imports cleanly and carries what operators rely on."""

from __future__ import annotations

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset, CronDataIntervalTimetable

from cxw.assets import RAW_LAYER, TRANSFORM_DEADLINE_CRON
from cxw.dag_defaults import WAREHOUSE_POOL
from cxw.local_airflow import DAGS_DIR


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_DIR))


def test_every_dag_imports(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert dagbag.dag_ids, "no DAG found in dags/"


def test_one_dag_per_file_named_after_it(dagbag: DagBag) -> None:
    files = {path.stem for path in DAGS_DIR.glob("*.py")}
    assert set(dagbag.dag_ids) == files


def test_every_dag_has_tags_owner_retries_docs(dagbag: DagBag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.max_active_runs == 1, f"{dag_id} may run concurrently with itself"
        for task in dag.tasks:
            assert task.owner not in ("", "airflow"), f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} has no failure callback"


def test_extract_dags_run_daily_intervals_and_emit_assets(dagbag: DagBag) -> None:
    extract = [dag for dag_id, dag in dagbag.dags.items() if dag_id.startswith("extract_")]
    assert extract
    for dag in extract:
        assert isinstance(dag.timetable, CronDataIntervalTimetable), dag.dag_id
        outlets = [outlet for task in dag.tasks for outlet in task.outlets]
        assert any(isinstance(outlet, Asset) for outlet in outlets), dag.dag_id


def test_transform_is_scheduled_on_what_the_extracts_emit(dagbag: DagBag) -> None:
    emitted = {
        outlet.uri
        for dag_id, dag in dagbag.dags.items()
        if dag_id.startswith("extract_")
        for task in dag.tasks
        for outlet in task.outlets
    }
    transform = dagbag.dags["transform"]
    condition = transform.timetable.asset_condition
    scheduled_on = {asset.uri for asset in condition.objects}
    assert emitted <= scheduled_on


def test_warehouse_tasks_share_the_one_slot_writer_pool(dagbag: DagBag) -> None:
    """DuckDB has one writer: whatever the executor and however many workers, the tasks
    that open the warehouse run one at a time (docker-compose.yaml creates the pool)."""
    for task in dagbag.dags["transform"].tasks:
        assert task.pool == WAREHOUSE_POOL, task.task_id
    for dag_id, dag in dagbag.dags.items():
        if dag_id.startswith("extract_"):
            assert all(task.pool != WAREHOUSE_POOL for task in dag.tasks), dag_id


def test_transform_runs_when_all_landed_or_at_its_deadline_never_waiting_forever(
    dagbag: DagBag,
) -> None:
    """One failing source must not hold the transform back: the schedule is the four
    raw assets together OR a daily time, whichever comes first."""
    transform = dagbag.dags["transform"]
    timetable = transform.timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert timetable.timetable.expression == TRANSFORM_DEADLINE_CRON
    condition = timetable.asset_condition
    assert type(condition).__name__.endswith("AssetAll")
    assert {asset.uri for asset in condition.objects} == {asset.uri for asset in RAW_LAYER}


@pytest.mark.parametrize("now", ["13:00:01", "13:58", "15:00", "23:30"])
def test_an_unpaused_transform_waits_for_the_next_deadline(
    dagbag: DagBag, monkeypatch: pytest.MonkeyPatch, now: str
) -> None:
    """Unpausing the transform DAG after today's deadline (13:00 UTC) starts no deadline
    run at once (catch-ups trigger their own runs): its first scheduled run is
    tomorrow's deadline, as the scheduler computes it from the serialized DAG."""
    import pendulum
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables import trigger
    from airflow.timetables.base import TimeRestriction

    timetable = decode_timetable(encode_timetable(dagbag.dags["transform"].timetable))
    hour, minute, *second = (int(part) for part in now.split(":"))
    monkeypatch.setattr(
        trigger, "utcnow",
        lambda: pendulum.datetime(2026, 11, 30, hour, minute, *second, tz="UTC"),
    )
    first = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
    )
    assert first.run_after == pendulum.datetime(2026, 12, 1, 13, tz="UTC")


def test_extract_dags_check_first_and_report_rejections_last(dagbag: DagBag) -> None:
    for dag_id, dag in dagbag.dags.items():
        if not dag_id.startswith("extract_"):
            continue
        source = dag_id.removeprefix("extract_")
        check = dag.get_task("check_settings")
        assert not check.upstream_task_ids, dag_id
        land = dag.get_task(f"land_{source}")
        assert check.task_id in land.get_flat_relative_ids(upstream=True), dag_id
        report = dag.get_task("report_rejections")
        assert report.upstream_task_ids == {land.task_id}, dag_id
        assert land.outlets, dag_id

"""
### transform

Builds the warehouse once new raw data has landed: `dbt build` (models and data tests;
the unit tests run in CI) on the DuckDB warehouse as of the run's data date, only what
the newly landed batches and the new data date change (`cxw run --full-refresh` rebuilds
everything), validates the marts with
the Great Expectations suites in `expectations/marts/`, then publishes the warehouse to
`$CXW_HOME/published/warehouse.duckdb`, which BI tools open read-only. The published
file is replaced atomically and only after the build and the validation passed, so a
failed run leaves the last good warehouse in place. Then it checks how recently each
source landed (`dbt source freshness` on `_loaded_at`: a stale source is a warning in the
log and on the dashboard, never a blocked publish). Finally it writes the reports to
`$CXW_HOME/reports/`: the CX dashboard (`dashboard.html`) and the dbt docs
(`dbt-docs.html`), both static pages that open offline.

Scheduled on the raw-layer assets of the four extract DAGs OR a daily deadline: it runs
once every source has landed new data, and in any case at the deadline (13:00 UTC) on
whatever has landed, so one failing source never holds the others' data back. What is
stale shows in the run summary and in dbt source freshness; the marts are built as of
the latest landed data. Only one task at a time opens the DuckDB warehouse, whatever the
executor and however many workers: every task here runs in the one-slot
`warehouse_writer` pool (created by `airflow-init` in docker-compose.yaml, `cxw run`,
`cxw airflow` and `cxw cluster`), besides `max_active_runs=1` and the writer lock.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from cxw.assets import ALL_SOURCES_LANDED, TRANSFORM_DEADLINE_CRON, WAREHOUSE
from cxw.dag_defaults import DEFAULT_ARGS, WAREHOUSE_POOL


@dag(
    dag_id="transform",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(
            TRANSFORM_DEADLINE_CRON, timezone="UTC", run_immediately=timedelta(0)
        ),
        assets=ALL_SOURCES_LANDED,
    ),
    # No start_date: with one, unpausing the DAG after today's deadline would start a
    # deadline run at once (catchup=False still runs the latest past time); without one
    # the first deadline run waits for the next deadline. run_immediately=timedelta(0),
    # not False: Airflow 3.3 reads False as "within a tenth of the interval" and runs
    # the past deadline at once when unpaused up to 2.4 h after it.
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cxw", "transform", "dbt"],
    doc_md=__doc__,
)
def transform():
    # DuckDB is single-writer and validate_marts reads the file being written: all four
    # tasks open the warehouse, so all take the pool's one slot.
    @task(pool=WAREHOUSE_POOL)
    def build_warehouse(**context) -> str:
        from cxw import pipeline

        as_of = pipeline.as_of_date(
            context.get("triggering_asset_events"), context["dag_run"].logical_date
        )
        return pipeline.build_warehouse(as_of)

    @task(pool=WAREHOUSE_POOL)
    def validate_marts() -> dict[str, bool]:
        from cxw import pipeline

        return pipeline.validate_marts()

    @task(outlets=[WAREHOUSE], pool=WAREHOUSE_POOL)
    def publish() -> dict[str, int]:
        from cxw import pipeline

        return pipeline.publish()

    @task(pool=WAREHOUSE_POOL)
    def source_freshness() -> dict[str, str]:
        from cxw import pipeline

        return pipeline.check_source_freshness()

    @task(pool=WAREHOUSE_POOL)
    def build_reports() -> dict[str, str]:
        from cxw import pipeline

        return pipeline.build_reports()

    build_warehouse() >> validate_marts() >> publish() >> source_freshness() >> build_reports()


transform()

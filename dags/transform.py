"""
### transform

Builds the warehouse once new raw data has landed: `dbt build` (models and their
tests) on the DuckDB warehouse as of the run's data date, then publishes it to
`$CXW_HOME/published/warehouse.duckdb`, which BI tools open read-only. The published
file is replaced atomically and only after the build passed, so a failed run leaves
the last good warehouse in place.

Scheduled on the raw-layer assets the extract DAGs emit. Only one run at a time
writes the warehouse (`max_active_runs=1` and the `warehouse_writer` lock).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from cxw.assets import RAW_ORDERS, WAREHOUSE
from cxw.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    dag_id="transform",
    schedule=[RAW_ORDERS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cxw", "transform", "dbt"],
    doc_md=__doc__,
)
def transform():
    @task(outlets=[WAREHOUSE])
    def build_and_publish(**context) -> dict[str, int]:
        from cxw import pipeline

        as_of = pipeline.as_of_date(
            context.get("triggering_asset_events"), context["dag_run"].logical_date
        )
        return pipeline.build_and_publish(as_of)

    build_and_publish()


transform()

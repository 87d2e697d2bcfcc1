"""The ``cxw`` command: run the pipeline through Airflow and show what it built.

    cxw demo                              # the built-in demo sources, end to end
    cxw run --start 2026-01-01 --end 2026-01-07   # any date range (also backfills)
    cxw show                              # what the published warehouse holds
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import duckdb

from cxw import local_airflow, warehouse
from cxw.settings import Settings

EXTRACT_DAGS = ("extract_helpdesk", "extract_web", "extract_orders", "extract_surveys")
TRANSFORM_DAG = "transform"

ORDERS_ONLY = ("extract_orders",)
DEMO_START = date(2026, 1, 1)
DEMO_END = date(2026, 1, 2)


def days(start: date, end: date) -> list[date]:
    """Every data date from ``start`` to ``end``, both included."""
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def run_range(
    settings: Settings,
    start: date,
    end: date,
    env: Mapping[str, str] | None = None,
    daily: bool = False,
    extract_dags: Sequence[str] = EXTRACT_DAGS,
) -> None:
    """Run the extract DAGs over ``[start, end]`` and then the transform DAG for ``end``,
    all through Airflow, printing progress as it goes.

    By default each extract DAG runs once with the whole range as its window (a catch-up:
    one Airflow run per source instead of one per source and day); ``daily`` runs every
    extract DAG once per day, exactly as the schedule would.
    """
    dates = days(start, end)
    if daily:
        runs = [(dag_id, day, None) for day in dates for dag_id in extract_dags]
    else:
        window = {
            "window_start": start.isoformat(),
            "window_end": (end + timedelta(days=1)).isoformat(),
        }
        runs = [(dag_id, end, window) for dag_id in extract_dags]
    runs.append((TRANSFORM_DAG, end, None))

    print("Preparing Airflow metadata database ...", flush=True)
    local_airflow.ensure_metadata_db(settings, env=env)
    for number, (dag_id, day, conf) in enumerate(runs, start=1):
        began = time.monotonic()
        span = f"{start} .. {end}" if conf else str(day)
        print(f"[{number}/{len(runs)}] {dag_id} {span} ...", end=" ", flush=True)
        local_airflow.run_dag(settings, dag_id, day, conf=conf, env=env)
        print(f"ok ({time.monotonic() - began:.1f}s)", flush=True)


def show(settings: Settings) -> None:
    """Print the published warehouse's marts: where it is, row counts, a glimpse."""
    path = settings.published_path
    if not path.exists():
        print(f"No published warehouse at {path} yet: run `cxw run` or `cxw demo`.")
        return
    counts = warehouse.mart_row_counts(path)
    print(f"\nPublished warehouse (open it read-only with any DuckDB client):\n  {path}\n")
    print("Mart tables and row counts:")
    for table, rows in counts.items():
        print(f"  {table:<40} {rows:>10,}")
    if "experience.daily_orders" in counts:
        with duckdb.connect(str(path), read_only=True) as connection:
            frame = connection.sql(
                "select * from experience.daily_orders order by order_date"
            ).df()
        print("\nexperience.daily_orders:")
        print(frame.to_string(index=False))


def demo(settings: Settings) -> None:
    """The built-in demo: the tiny shop's orders database through the whole pipeline."""
    from cxw_demo.tiny_shop import create_orders_db

    database = create_orders_db(settings.home / "demo" / "orders.db")
    env = {**os.environ, "AIRFLOW_CONN_ORDERS_DB": f"sqlite:///{database}"}
    print(f"Demo sources: orders database {database}")
    run_range(settings, DEMO_START, DEMO_END, env=env, daily=True, extract_dags=ORDERS_ONLY)
    show(settings)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxw", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the pipeline on the built-in demo sources")
    run = commands.add_parser("run", help="run a date range through Airflow (backfill too)")
    run.add_argument("--start", type=_date, required=True, help="first data date, YYYY-MM-DD")
    run.add_argument("--end", type=_date, required=True, help="last data date, YYYY-MM-DD")
    run.add_argument(
        "--daily", action="store_true", help="one run per source and day (as scheduled)"
    )
    commands.add_parser("show", help="print what the published warehouse holds")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    try:
        if args.command == "demo":
            demo(settings)
        elif args.command == "run":
            run_range(settings, args.start, args.end, daily=args.daily)
            show(settings)
        else:
            show(settings)
    except (local_airflow.AirflowFailed, ValueError) as error:
        print(f"\ncxw {args.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


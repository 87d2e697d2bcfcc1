"""The ``cxw`` command: run the pipeline through Airflow and show what it built.

    cxw demo                              # the built-in demo sources, end to end
    cxw run --start 2026-01-01 --end 2026-01-07   # any date range (also backfills)
    cxw show                              # what the published warehouse holds
    cxw check                             # every setting, in seconds, before a run
    cxw cluster --workers 2               # Airflow with Celery workers, as docker-compose.yaml
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cxw import check, cluster, local_airflow, reports, run_summary, warehouse
from cxw.dag_defaults import START_DATE
from cxw.settings import Settings

EXTRACT_DAGS = ("extract_helpdesk", "extract_web", "extract_orders", "extract_surveys")
TRANSFORM_DAG = "transform"

# The demo period: six months of the demo company (183 days), all in the past.
DEMO_START = date(2026, 3, 1)
DEMO_END = date(2026, 8, 30)
DEMO_CUSTOMERS = 2000


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
    if start < START_DATE.date():
        # Airflow would skip these runs and still report success.
        raise ValueError(f"--start {start} is before the DAGs' start_date {START_DATE.date()}")
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
    numbers = reports.key_numbers(path)
    as_of = numbers.get("as_of_date")
    print(
        "\nKey numbers (customer service | customer experience), from semantic.key_numbers"
        + ("" if as_of is None else f", data as of {as_of:%Y-%m-%d}")
        + ":"
    )
    for figure in reports.KEY_FIGURES:
        value = reports.format_figure(numbers.get(figure.key), figure.kind)
        print(f"  {figure.label:<38}{value:>12}  {figure.description}")
    impact = numbers.get("service_impact")
    if impact is not None and len(impact):
        print("\nHow service drives experience (experience.service_impact):")
        print(reports.service_impact_table(impact).to_string(index=False))
    print(f"\nReports: {settings.reports_dir / 'dashboard.html'}")
    print(f"         {settings.reports_dir / 'dbt-docs.html'}")
    print(f"         {settings.gx_data_docs_dir / 'index.html'}")


def demo_environment(
    sources: Path, helpdesk_url: str, token: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The settings of sources.md pointing at the demo company's systems."""
    from urllib.parse import quote, urlsplit

    from cxw_demo.config import DEFAULT_AGENT_EMAIL, ORDER_FIELD_ID

    address = urlsplit(helpdesk_url)
    return {
        **(os.environ if base is None else base),
        "AIRFLOW_CONN_ORDERS_DB": f"sqlite:///{sources / 'shop.db'}",
        "AIRFLOW_CONN_HELPDESK_API": (
            f"http://{quote(DEFAULT_AGENT_EMAIL, safe='')}:{quote(token, safe='')}"
            f"@{address.hostname}:{address.port}?order_field_id={ORDER_FIELD_ID}"
        ),
        "CXW_WEB_EXPORT_PATH": str(sources / "ga4"),
        "CXW_SURVEY_DROP_PATH": str(sources / "surveys"),
        "CXW_EMAIL_SALT": os.environ.get("CXW_EMAIL_SALT") or "demo-salt",
    }


def demo(
    settings: Settings,
    customers: int = DEMO_CUSTOMERS,
    start: date = DEMO_START,
    end: date = DEMO_END,
    daily: bool = False,
) -> None:
    """The built-in demo: generate the demo company, serve its helpdesk on loopback, run
    the whole pipeline through Airflow over the period, and print the key numbers."""
    import secrets

    from cxw_demo.generate import generate
    from cxw_demo.helpdesk_server import HelpdeskServer

    sources = settings.home / "demo" / "sources"
    began = time.monotonic()
    print(f"Generating the demo company ({customers:,} customers, {start} .. {end}) ...",
          end=" ", flush=True)
    manifest = generate(sources, customers, start, end, seed=42)
    print(f"ok ({time.monotonic() - began:.1f}s): {json.dumps(manifest['counts'])}")
    token = secrets.token_urlsafe(16)
    moment = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    with HelpdeskServer(sources / "helpdesk", token=token, now=int(moment.timestamp())) as server:
        print(f"Demo helpdesk (Zendesk API) serving on {server.url}")
        run_range(settings, start, end, env=demo_environment(sources, server.url, token),
                  daily=daily)
    show(settings)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxw", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo_command = commands.add_parser(
        "demo", help="run the pipeline on the built-in demo company"
    )
    demo_command.add_argument(
        "--customers", type=int, default=DEMO_CUSTOMERS, help="size of the demo company"
    )
    demo_command.add_argument(
        "--daily", action="store_true", help="one run per source and day (slow)"
    )
    run = commands.add_parser("run", help="run a date range through Airflow (backfill too)")
    run.add_argument("--start", type=_date, required=True, help="first data date, YYYY-MM-DD")
    run.add_argument("--end", type=_date, required=True, help="last data date, YYYY-MM-DD")
    run.add_argument(
        "--daily", action="store_true", help="one run per source and day (as scheduled)"
    )
    commands.add_parser("show", help="print what the published warehouse holds")
    commands.add_parser(
        "check", help="check every setting (folders, connections, tables) in seconds"
    )
    commands.add_parser(
        "airflow", help="start the local Airflow (api-server, scheduler, ...) to watch the DAGs"
    )
    cluster_command = commands.add_parser(
        "cluster",
        help="run docker-compose.yaml's Airflow (CeleryExecutor) on this machine's "
        "PostgreSQL and Redis until Ctrl-C",
    )
    cluster_command.add_argument("--workers", type=int, default=2, help="Celery workers")
    cluster_command.add_argument("--concurrency", type=int, default=2, help="task slots per worker")
    cluster_command.add_argument("--port", type=int, default=8080, help="UI / REST API port")
    cluster_command.add_argument(
        "--postgres-url",
        help="server for the metadata database (default $CXW_CLUSTER_POSTGRES_URL or "
        f"{cluster.DEFAULT_POSTGRES_URL}); a fresh database is created and dropped",
    )
    cluster_command.add_argument(
        "--redis-url",
        help=f"Celery broker (default $CXW_CLUSTER_REDIS_URL or {cluster.DEFAULT_REDIS_URL})",
    )
    cluster_command.add_argument(
        "--demo", action="store_true", help="point it at the demo company, up to yesterday"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        return check.main()

    settings = Settings.from_env(lenient=True)
    try:
        if args.command == "demo":
            demo(settings, customers=args.customers, daily=args.daily)
        elif args.command == "run":
            if not _settings_ok():
                return 1
            run_range(settings, args.start, args.end, daily=args.daily)
            print("\n" + run_summary.summary(settings, args.end))
            show(settings)
        elif args.command == "cluster":
            if args.demo:
                # The cluster's demo company is not `cxw demo`'s (other dates and size): a
                # home of its own keeps the two companies' records out of one lake.
                os.environ["CXW_HOME"] = str(settings.home / "cluster-demo")
                settings = Settings.from_env()
            cluster.serve(
                settings,
                workers=args.workers,
                concurrency=args.concurrency,
                port=args.port,
                postgres_url=args.postgres_url,
                redis_url=args.redis_url,
                demo=args.demo,
            )
        elif args.command == "airflow":
            # The writer pool must exist before the scheduler sees the transform DAG.
            local_airflow.ensure_metadata_db(settings)
            # Replaces this process: `airflow standalone` with the project's configuration.
            env = local_airflow.airflow_env(settings)
            os.execve(local_airflow.airflow_executable(), ["airflow", "standalone"], env)
        else:
            show(settings)
    except (local_airflow.AirflowFailed, cluster.ClusterFailed, ValueError) as error:
        if args.command == "run":
            # The one-line cause and where the full output is, then what did land.
            print("\n" + run_summary.failure_line(settings, "run", error), file=sys.stderr)
            print("\n" + run_summary.summary(settings, args.end), file=sys.stderr)
        else:
            print(f"\ncxw {args.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


def _settings_ok() -> bool:
    """``cxw check`` before a run: print the problems; False (nothing runs) on errors."""
    problems = check.run_checks()
    for problem in problems:
        print(problem, file=sys.stderr if problem.is_error else sys.stdout)
    if any(problem.is_error for problem in problems):
        print("cxw run: nothing was run; fix the settings above (cxw check)", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())


"""The ``cxw`` command: run the pipeline through Airflow and show what it built.

    cxw run --start 2026-01-01 --end 2026-01-07   # a date range: Airflow backfills
    cxw run --start ... --end ... --catch-up      # one run per source for the range
    cxw show                              # what the published warehouse holds
    cxw check                             # every setting, in seconds, before a run
    cxw airflow [--port 8080]             # the local Airflow until Ctrl-C / SIGTERM
    cxw cluster --workers 2               # Airflow with Celery workers, as docker-compose.yaml

The demo company (``make demo``) is the simulator's: ``python -m cxw_demo demo`` generates it
and runs it through the functions here.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from cxw import check, cluster, local_airflow, reports, run_summary, warehouse
from cxw.airflow_api import ApiClient
from cxw.dag_defaults import SOURCES_END_SETTING, START_DATE
from cxw.settings import Settings

EXTRACT_DAGS = ("extract_helpdesk", "extract_web", "extract_orders", "extract_surveys")
TRANSFORM_DAG = "transform"
# A transform run that has not ended after this long is reported, not waited for forever.
TRANSFORM_TIMEOUT_SECONDS = 3600


def days(start: date, end: date) -> list[date]:
    """Every data date from ``start`` to ``end``, both included."""
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


@dataclass
class RangeRun:
    """What ``run_range`` ran, as Airflow's metadata database records it."""

    mode: str
    extract_runs: list[local_airflow.RunRecord] = field(default_factory=list)
    transform_run: local_airflow.RunRecord | None = None
    failures: list[local_airflow.Failure] = field(default_factory=list)


def run_range(
    settings: Settings,
    start: date,
    end: date,
    env: Mapping[str, str] | None = None,
    catch_up: bool = False,
    extract_dags: Sequence[str] = EXTRACT_DAGS,
    poll_seconds: float = 2.0,
) -> RangeRun:
    """Run the extract DAGs over ``[start, end]`` on a real scheduler and wait for the
    ``transform`` run their assets trigger, printing progress as it goes.

    The local Airflow (api-server, scheduler with LocalExecutor, dag-processor) is the one
    already serving this Airflow home, else one started for this call and stopped at its
    end. By default each extract DAG gets an Airflow backfill, one run per daily interval
    as the schedule would have made them; ``catch_up`` instead triggers one run per
    extract DAG whose data interval is the whole range. Raises ``AirflowFailed`` with the
    failed task's one-line cause and log path.
    """
    days(start, end)
    if start < START_DATE.date():
        # Airflow would skip these runs and still report success.
        raise ValueError(f"--start {start} is before the DAGs' start_date {START_DATE.date()}")
    if end >= datetime.now(UTC).date():
        raise ValueError(f"--end {end} has not ended yet: the last full day is yesterday")
    dag_ids = [*extract_dags, TRANSFORM_DAG]
    # The Airflow started for this call sees the sources as a fixed history ending at --end.
    run_env = {**(os.environ if env is None else env), SOURCES_END_SETTING: end.isoformat()}
    result = RangeRun(mode="catch-up" if catch_up else "backfill")
    print("Starting the local Airflow (scheduler, LocalExecutor) ...", end=" ", flush=True)
    began = time.monotonic()
    with local_airflow.LocalAirflow(settings, env=run_env) as airflow:
        reused = "reused" if not airflow.started else "up"
        print(f"{reused} ({time.monotonic() - began:.0f}s): {airflow.api_url}", flush=True)
        api = airflow.api()
        local_airflow.wait_for_dags(api, dag_ids, end if airflow.started else None)
        paused = {dag_id: api.get(f"dags/{dag_id}")["is_paused"] for dag_id in dag_ids}
        for dag_id in dag_ids:
            api.set_paused(dag_id, False)
        try:
            since = datetime.now(UTC)
            if catch_up:
                print(f"Catch-up: one run per source for {start} .. {end}", flush=True)
                run_ids = {
                    dag_id: local_airflow.trigger_window(api, dag_id, start, end).run_id
                    for dag_id in extract_dags
                }
                result.extract_runs = wait_for_extracts(
                    api, {dag_id: {"run_id": run_ids[dag_id]} for dag_id in extract_dags},
                    since, 1, poll_seconds, airflow.ensure_alive,
                )
            else:
                result.extract_runs = backfill_extracts(
                    api, extract_dags, start, end, since, poll_seconds, airflow.ensure_alive
                )
            result.failures = [
                local_airflow.failure_of(api, run, airflow.home)
                for run in result.extract_runs
                if run.state == "failed"
            ]
            if result.failures:
                # Each source lands on its own: what did land is built and published now,
                # as the transform DAG's daily deadline would, not after the failed
                # source is fixed.
                result.transform_run = transform_what_landed(
                    api, since, end, poll_seconds, airflow.ensure_alive
                )
            else:
                result.transform_run = wait_for_transform(
                    api, since, end, poll_seconds, airflow.ensure_alive
                )
            if result.transform_run.state != "success":
                result.failures.append(
                    local_airflow.failure_of(api, result.transform_run, airflow.home)
                )
        finally:
            for dag_id, was_paused in paused.items():
                if was_paused:
                    api.set_paused(dag_id, True)
    if result.failures:
        error = local_airflow.AirflowFailed(
            "\n".join(str(failure) for failure in result.failures)
        )
        error.result = result  # what did run, for a caller's summary
        raise error
    return result


def backfill_extracts(
    api: ApiClient,
    extract_dags: Sequence[str],
    start: date,
    end: date,
    since: datetime,
    poll_seconds: float,
    check: Callable[[], None],
) -> list[local_airflow.RunRecord]:
    """Airflow backfills of the extract DAGs, one run per day, in two steps: the days
    before ``end`` with ``transform`` paused (their asset events do not queue it: the lake
    keeps their data, and one build as of ``end`` covers them), then ``end`` with it
    unpaused, so its four asset events trigger exactly one ``transform`` run.

    Why not one backfill with ``transform`` live: a transform run triggered mid-way takes
    minutes, and Airflow 3.3 consumes only the asset events queued before the run's
    trigger time while clearing the whole queue, so the last day's events could be
    dropped and never trigger the final build.
    """
    print(f"Backfill: one run per source and day, {start} .. {end}", flush=True)
    runs: list[local_airflow.RunRecord] = []
    steps = [(start, end - timedelta(days=1), True), (end, end, False)]
    for first, last, transform_paused in steps:
        if last < first:
            continue
        api.set_paused(TRANSFORM_DAG, transform_paused)
        backfills = [
            local_airflow.create_backfill(api, dag_id, first, last)["id"]
            for dag_id in extract_dags
        ]
        where = {
            "run_type": "backfill",
            "logical_date_gte": local_airflow.iso(local_airflow.midnight(first)),
            "logical_date_lte": local_airflow.iso(local_airflow.midnight(last)),
        }
        count = len(days(first, last))
        ended = wait_for_extracts(
            api, dict.fromkeys(extract_dags, where), since, count, poll_seconds, check
        )
        runs += ended
        # A failed day does not stop the other days or sources: each lands on its own,
        # and the failures are reported together at the end.
        # Only one backfill per DAG at a time: the next step waits until the scheduler
        # has marked these complete.
        while not all(api.get(f"backfills/{backfill}")["completed_at"] for backfill in backfills):
            check()
            time.sleep(poll_seconds)
    return runs


def wait_for_extracts(
    api: ApiClient,
    filters: Mapping[str, Mapping[str, str]],
    since: datetime,
    runs_per_dag: int,
    poll_seconds: float,
    check: Callable[[], None],
) -> list[local_airflow.RunRecord]:
    """Poll the extract DAGs' runs until all have ended (this call's: ended after
    ``since``), printing progress: a failed run does not stop the others, each source
    lands on its own. ``check`` raises if the Airflow running them has died."""
    total = runs_per_dag * len(filters)
    shown = None
    while True:
        runs = [
            run
            for dag_id, where in filters.items()
            for run in local_airflow.dag_runs(api, dag_id, **where)
        ]
        ended = [
            run for run in runs
            if run.state in local_airflow.TERMINAL and run.end_date
            and datetime.fromisoformat(run.end_date) >= since
        ]
        failed = [run for run in ended if run.state == "failed"]
        progress = f"  extract runs: {len(ended)}/{total} done" + (
            f", {len(failed)} failed" if failed else ""
        )
        if progress != shown:
            print(progress, flush=True)
            shown = progress
        if len(ended) >= total:
            return ended
        check()
        time.sleep(poll_seconds)


def transform_what_landed(
    api: ApiClient,
    since: datetime,
    end: date,
    poll_seconds: float,
    check: Callable[[], None],
) -> local_airflow.RunRecord:
    """Once an extract run failed, the ``transform`` run that builds what did land for
    ``end``: the asset-triggered one when all four raw-layer assets still came (a source
    whose batch was rejected emits its asset for the data that landed), else a triggered
    run (logical date the day after ``end``, as the daily deadline run would); wait until
    it has ended."""
    api.set_paused(TRANSFORM_DAG, False)
    try:
        # A source whose batch was rejected still emits its asset (its good data landed):
        # when all four did, the asset-triggered run is the one to wait for.
        return wait_for_transform(api, since, end, poll_seconds, check, idle_seconds=20)
    except local_airflow.AirflowFailed:
        pass
    began = datetime.now(UTC)
    # On the day after ``end`` (the transform builds as of the day before its logical
    # date), at this moment's time of day: logical dates are unique per DAG, so a rerun of
    # the same range gets a run of its own.
    time_of_day = began - local_airflow.midnight(began.date())
    logical = local_airflow.iso(local_airflow.midnight(end + timedelta(days=1)) + time_of_day)
    print(f"  a source failed: triggering {TRANSFORM_DAG} on what landed ...", flush=True)
    run_id = f"what_landed__{end}__{began:%Y%m%dT%H%M%S%f}"
    api.request(
        "POST", f"dags/{TRANSFORM_DAG}/dagRuns",
        json={"dag_run_id": run_id, "logical_date": logical},
    )
    deadline = time.monotonic() + TRANSFORM_TIMEOUT_SECONDS
    while True:
        (run,) = local_airflow.dag_runs(api, TRANSFORM_DAG, run_id=run_id)
        if time.monotonic() > deadline:
            raise local_airflow.AirflowFailed(
                f"{TRANSFORM_DAG} {run_id} did not end within {TRANSFORM_TIMEOUT_SECONDS} s"
            )
        if run.state in local_airflow.TERMINAL:
            print(f"  {TRANSFORM_DAG} {run.run_id}: {run.state} ({run.duration or 0:.0f}s)",
                  flush=True)
            return run
        check()
        time.sleep(poll_seconds)


def wait_for_transform(
    api: ApiClient,
    since: datetime,
    end: date,
    poll_seconds: float,
    check: Callable[[], None],
    idle_seconds: float = 60,
) -> local_airflow.RunRecord:
    """The ``transform`` run the extract runs' assets triggered that builds as of ``end``
    (its triggering events carry data_date ``end``), once it has ended. Raises if none
    is running or queued for ``idle_seconds``."""
    from urllib.parse import quote

    print(f"  waiting for {TRANSFORM_DAG} (triggered by the four raw-layer assets) ...",
          flush=True)
    seen: set[str] = set()
    idle_since = time.monotonic()
    while True:
        runs = local_airflow.dag_runs(api, TRANSFORM_DAG, run_after_gte=local_airflow.iso(since))
        if any(run.state not in local_airflow.TERMINAL for run in runs):
            idle_since = time.monotonic()
        for run in runs:
            if run.state not in local_airflow.TERMINAL:
                continue
            events = api.get(
                f"dags/{TRANSFORM_DAG}/dagRuns/{quote(run.run_id)}/upstreamAssetEvents"
            )["asset_events"]
            dates = [(event.get("extra") or {}).get("data_date") for event in events]
            if run.run_id not in seen:
                seen.add(run.run_id)
                latest = max(filter(None, dates), default="?")
                print(f"  {TRANSFORM_DAG} {run.run_id}: {run.state} "
                      f"({run.duration or 0:.0f}s, data up to {latest})", flush=True)
            if end.isoformat() in dates:
                return run
        if time.monotonic() - idle_since > idle_seconds:
            queued = api.get(f"dags/{TRANSFORM_DAG}/assets/queuedEvents")["queued_events"]
            raise local_airflow.AirflowFailed(
                f"{TRANSFORM_DAG} was not triggered for data up to {end} within "
                f"{idle_seconds:.0f}s of the extract runs; assets queued for it: "
                f"{len(queued)} of 4"
            )
        check()
        time.sleep(poll_seconds)


def show(settings: Settings) -> None:
    """Print the published warehouse's marts: where it is, row counts, a glimpse."""
    path = settings.published_path
    if not path.exists():
        print(f"No published warehouse at {path} yet: run `cxw run` (or `make demo`).")
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


def source_connections(env: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """The configured sources as Airflow connections, in ``airflow connections import``'s
    JSON form: the two the tasks read as connections (``helpdesk_api``, ``orders_db``,
    from their ``AIRFLOW_CONN_*`` settings) and the two file drops (``web_export``,
    ``survey_drop``: type ``fs``, the folder in extra ``path``; the tasks read the same
    value from ``CXW_WEB_EXPORT_PATH``/``CXW_SURVEY_DROP_PATH``)."""
    from airflow.sdk import Connection

    found: dict[str, dict[str, object]] = {}
    for conn_id in ("helpdesk_api", "orders_db"):
        uri = env.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if uri:
            conn = Connection.from_uri(uri, conn_id=conn_id)
            found[conn_id] = {
                "conn_type": conn.conn_type, "host": conn.host, "login": conn.login,
                "password": conn.password, "schema": conn.schema, "port": conn.port,
                "extra": conn.extra,
            }
    for conn_id, setting in (("web_export", "CXW_WEB_EXPORT_PATH"),
                             ("survey_drop", "CXW_SURVEY_DROP_PATH")):
        if env.get(setting):
            found[conn_id] = {
                "conn_type": "fs",
                "description": f"{setting}: the folder the extract task reads",
                "extra": json.dumps({"path": env[setting]}),
            }
    return found


def import_connections(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Write the source connections to a file in the Airflow home (owner-only, never in
    git) and ``airflow connections import --overwrite`` it; return their ids."""
    connections = source_connections(env)
    if not connections:
        return []
    home = Path(local_airflow.airflow_env(settings, env)["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    path = home / "source-connections.json"
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(connections, indent=2))
    local_airflow.migrate_metadata_db(settings, env=env)
    local_airflow.run_airflow(settings, "connections", "import", "--overwrite", str(path), env=env)
    return sorted(connections)


def serve_airflow(
    settings: Settings,
    port: int = 8080,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
) -> None:
    """``cxw airflow``: the local Airflow (api-server, scheduler with LocalExecutor,
    dag-processor) on this home until Ctrl-C or SIGTERM, the sources configured in ``env``
    (default: this process's environment) registered as connections. With
    ``CXW_SOURCES_END`` set the extract DAGs end on that day."""
    env = dict(os.environ if env is None else env)
    registered = import_connections(settings, env)
    # The tasks read the imported connections (what the UI shows), not env copies.
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW_CONN_")}
    print("Starting the local Airflow ...", flush=True)
    with local_airflow.LocalAirflow(
        settings, env=env, port=port, host=host, reuse=False
    ) as airflow:
        print(f"Up: {airflow.api_url}  (UI and REST API, bound to {host})")
        print(f"  login      admin / the password in {airflow.endpoint.password_file}")
        print(f"  executor   LocalExecutor, {airflow.env['AIRFLOW__CORE__PARALLELISM']} slots")
        print(f"  sources    {', '.join(registered) or 'none configured (see README)'}")
        print(f"  task logs  {airflow.home / 'logs'}")
        if env.get(SOURCES_END_SETTING):
            print(f"The sources' data ends {env[SOURCES_END_SETTING]} ({SOURCES_END_SETTING}): "
                  "unpaused, the DAGs schedule nothing after it; trigger a DAG for a day "
                  "before it.")
        print("Ctrl-C (or SIGTERM) stops every process it started.", flush=True)
        while True:
            airflow.ensure_alive()
            time.sleep(2)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def add_airflow_arguments(parser: argparse.ArgumentParser) -> None:
    """``cxw airflow``'s options (``--port``, ``--host``), for ``serve_airflow``."""
    parser.add_argument("--port", type=int, default=8080, help="UI / REST API port")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback only)"
    )


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """``cxw cluster``'s options, read back by ``cluster_options``."""
    parser.add_argument("--workers", type=int, default=2, help="Celery workers")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker")
    parser.add_argument("--port", type=int, default=8080, help="UI / REST API port")
    parser.add_argument(
        "--postgres-url",
        help="server for the metadata database (default $CXW_CLUSTER_POSTGRES_URL or "
        f"{cluster.DEFAULT_POSTGRES_URL}); a fresh database is created and dropped",
    )
    parser.add_argument(
        "--redis-url",
        help=f"Celery broker (default $CXW_CLUSTER_REDIS_URL or {cluster.DEFAULT_REDIS_URL})",
    )


def cluster_options(args: argparse.Namespace) -> dict[str, object]:
    """``cluster.serve``'s keyword arguments from ``add_cluster_arguments``' options."""
    return {
        "workers": args.workers,
        "concurrency": args.concurrency,
        "port": args.port,
        "postgres_url": args.postgres_url,
        "redis_url": args.redis_url,
    }


def run_command(
    name: str,
    action: Callable[[], int | None],
    on_failure: Callable[[Exception], None] | None = None,
) -> int:
    """Run one command the way every ``cxw`` command runs: SIGTERM (``kill``) unwinds like
    Ctrl-C, so every Airflow process it started stops; a failure prints its cause (or
    calls ``on_failure``) and gives exit status 1, an interruption 130."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return action() or 0
    except (local_airflow.AirflowFailed, cluster.ClusterFailed, ValueError,
            RuntimeError) as error:
        if on_failure is None:
            print(f"\n{name} failed: {error}", file=sys.stderr)
        else:
            on_failure(error)
        return 1
    except KeyboardInterrupt:
        print(f"\n{name} interrupted: every process it started is stopped.", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxw", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a date range through Airflow (backfill too)")
    run.add_argument("--start", type=_date, required=True, help="first data date, YYYY-MM-DD")
    run.add_argument("--end", type=_date, required=True, help="last data date, YYYY-MM-DD")
    run.add_argument(
        "--catch-up", action="store_true",
        help="one run per source for the whole range instead of an Airflow backfill with "
        "one run per source and day",
    )
    run.add_argument(
        "--full-refresh", action="store_true",
        help="rebuild every model from all history (the next build), not just what landed",
    )
    commands.add_parser("show", help="print what the published warehouse holds")
    commands.add_parser(
        "check", help="check every setting (folders, connections, tables) in seconds"
    )
    add_airflow_arguments(commands.add_parser(
        "airflow", help="start the local Airflow (api-server, scheduler, ...) to watch the DAGs"
    ))
    add_cluster_arguments(commands.add_parser(
        "cluster",
        help="run docker-compose.yaml's Airflow (CeleryExecutor) on this machine's "
        "PostgreSQL and Redis until Ctrl-C",
    ))
    args = parser.parse_args(argv)
    if args.command == "check":
        return check.main()

    settings = Settings.from_env(lenient=True)
    if args.command == "run":
        return run_command("cxw run", partial(_run, settings, args),
                           on_failure=partial(_run_failed, settings, args.end))
    if args.command == "cluster":
        return run_command("cxw cluster",
                           partial(cluster.serve, settings, **cluster_options(args)))
    if args.command == "airflow":
        return run_command("cxw airflow",
                           partial(serve_airflow, settings, port=args.port, host=args.host))
    return run_command("cxw show", partial(show, settings))


def _run(settings: Settings, args: argparse.Namespace) -> int:
    """``cxw run``: check the settings, run the range, print the summary and the marts."""
    if not _settings_ok():
        return 1
    if args.full_refresh:
        warehouse.request_full_refresh(settings)
    run_range(settings, args.start, args.end, catch_up=args.catch_up)
    print("\n" + run_summary.summary(settings, args.end))
    show(settings)
    return 0


def _run_failed(settings: Settings, end: date, error: Exception) -> None:
    """The one-line cause and where the full output is, then what did land."""
    print("\n" + run_summary.failure_line(settings, "run", error), file=sys.stderr)
    print("\n" + run_summary.summary(settings, end), file=sys.stderr)


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


"""Time the pipeline stage by stage on the demo company, its daily increment, and the floor.

    .venv/bin/python -m benchmarks.run --customers 300 --days 60 [--out results.json]
                                       [--through-airflow] [--scratch /tmp/cxw-bench]
    .venv/bin/python -m benchmarks.run --sizes 500,5000,50000 --days 365 [--out curve.json]

Data generation is timed apart and not counted. Every stage (and each generation) runs
in a fresh child process (forked from a fork server that has imported the pipeline), so
its peak memory is the pipeline's own (the stage's process, dbt running in it through
dbtRunner as in the DAGs, and any children), never the benchmark's generated data or
another stage's leftovers: the resident set of the child and its descendants, summed,
sampled with psutil every 50 ms; without psutil, the child's ``resource.getrusage``
maxima (self, children). A stage's seconds are its work alone, after the child's imports.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import duckdb

from cxw import cli, pipeline, warehouse
from cxw.settings import Settings
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from cxw_demo.run import demo_environment

# The history always ends on this day (in the past, after the DAGs' start_date, so that
# runs through Airflow are real runs: Airflow silently skips the tasks of a DAG run
# dated before its DAG's start_date).
LAST_DAY = date(2026, 10, 31)
SEED = 42
SAMPLE_SECONDS = 0.05
SOURCES = {
    "helpdesk": pipeline.land_helpdesk,
    "web": pipeline.land_web,
    "orders": pipeline.land_orders,
    "surveys": pipeline.land_surveys,
}


@dataclass
class Stage:
    name: str
    seconds: float
    rows: int
    rows_per_second: float
    peak_rss_mib: float
    # CPU seconds of the stage's work (its process and children), comparable across runs
    # on a loaded machine where wall seconds are not.
    cpu_seconds: float = 0.0


# -- measuring ---------------------------------------------------------------------------


def memory_method() -> str:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return "resource.getrusage maxrss of the stage's process (self, children)"
    return (
        f"psutil RSS of the stage's own process + its children, sampled every "
        f"{SAMPLE_SECONDS * 1000:.0f} ms"
    )


def _tree_peak(pid: int) -> int:
    """Resident bytes of process ``pid`` and its descendants (0 once it has gone)."""
    import psutil

    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        children = process.children(recursive=True)
    except psutil.Error:
        return 0
    for child in children:
        with suppress(psutil.Error):  # the child exited between listing and reading
            total += child.memory_info().rss
    return total


def _child(send: Any, work: Callable[..., Any], args: tuple, env: dict[str, str]) -> None:
    import resource

    # The fork server started with the environment of its time: take the caller's.
    os.environ.clear()
    os.environ.update(env)
    try:
        result: Any = ("ok", work(*args))
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises
        result = ("error", f"{type(error).__name__}: {error}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    send.send((*result, max(own, children) * 1024))  # Linux reports KiB
    send.close()


def in_child(work: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """``work(*args)`` in a fresh process, in the current environment: its result and
    the peak resident bytes of that process and its children, sampled (``memory_method``).

    The process is forked from a fork server that has imported the pipeline once (as a
    task process has) and holds no generated data, so nothing of the benchmark's own
    is counted, and no stage pays the imports in its time."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["cxw.pipeline", "cxw.warm", "cxw_demo.generate"])
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, work, args, dict(os.environ)))
    process.start()
    send.close()
    sampled = memory_method().startswith("psutil")
    peak = 0
    try:
        while not receive.poll(SAMPLE_SECONDS):
            if not process.is_alive():
                raise RuntimeError(f"{work.__name__} died (exit {process.exitcode})")
            if sampled:
                peak = max(peak, _tree_peak(process.pid))
        status, value, maxrss = receive.recv()
    finally:
        process.join()
    if status != "ok":
        raise RuntimeError(f"{work.__name__}{args}: {value}")
    return value, peak if sampled and peak else maxrss


def cpu_now() -> float:
    """CPU seconds used so far by this process and its waited-for children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def stage_work(name: str, start: date, end: date) -> tuple[float, float, int]:
    """One stage as the DAG task calls it (in the child): its seconds, its CPU seconds
    and its rows."""
    window = (midnight(start), midnight(end + timedelta(days=1)))
    began, cpu = time.perf_counter(), cpu_now()
    if name.startswith("extract "):
        result = SOURCES[name.removeprefix("extract ")](*window)
        return time.perf_counter() - began, cpu_now() - cpu, sum(result.values())
    if name == "publish":
        result = pipeline.publish()
        return time.perf_counter() - began, cpu_now() - cpu, sum(result.values())
    work = {
        "dbt build": lambda: pipeline.build_warehouse(end),
        "validate marts": pipeline.validate_marts,
        "reports": pipeline.build_reports,
    }[name]
    work()
    seconds, cpu_seconds = time.perf_counter() - began, cpu_now() - cpu
    return seconds, cpu_seconds, mart_rows()


def timed(name: str, start: date, end: date) -> Stage:
    """Run one stage in its own process and measure it."""
    (seconds, cpu_seconds, count), peak = in_child(stage_work, name, start, end)
    return Stage(
        name, seconds, count, count / seconds if seconds else 0.0, peak / 2**20, cpu_seconds
    )


STAGES = [*(f"extract {source}" for source in SOURCES), "dbt build", "validate marts",
          "publish", "reports"]


# -- the pipeline's stages ---------------------------------------------------------------


def midnight(day: date) -> datetime:
    return datetime.combine(day, clock(), UTC)


def mart_rows() -> int:
    return sum(warehouse.mart_row_counts(Settings.from_env().warehouse_path).values())


def run_stages(start: date, end: date, own_sql: dict[str, float] | None = None) -> list[Stage]:
    """Extract ``[start, end]`` from every source, then build, validate, publish, report
    as of ``end``: the same calls the DAG tasks make, one window each. ``own_sql`` gets
    ``seconds``: the build's own SQL straight in DuckDB (not a stage, not counted)."""
    results = Settings.from_env().home / "dbt" / "target" / "run_results.json"
    stages = []
    for name in STAGES:
        before = results.stat().st_mtime_ns if results.exists() else None
        stages.append(timed(name, start, end))
        if name == "dbt build" and own_sql is not None:
            ran = results.exists() and results.stat().st_mtime_ns != before
            own_sql["seconds"] = own_sql_seconds(Settings.from_env()) if ran else 0.0
            own_sql["nodes"] = dbt_nodes(Settings.from_env()) if ran else {}
    return stages


@contextmanager
def serving(sources: Path, now: date, home: Path) -> Iterator[dict[str, str]]:
    """Serve the demo helpdesk as of ``now`` and point the settings at ``sources``;
    yields the environment (also applied to ``os.environ`` for in-process stages)."""
    token = secrets.token_urlsafe(16)
    moment = int(midnight(now).timestamp())
    with HelpdeskServer(sources / "helpdesk", token=token, now=moment) as server:
        env = demo_environment(sources, server.url, token, base=os.environ)
        env["CXW_HOME"] = str(home)
        env["AIRFLOW_HOME"] = str(home / "airflow")
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            yield env
        finally:
            os.environ.clear()
            os.environ.update(saved)


def generate_sources(
    out: Path, customers: int, start: date, last_day: date, as_of: date, gzip_web: bool = False
) -> dict[str, Any]:
    """The demo company's sources as they stood at ``as_of`` midnight. The simulated
    period always ends at ``last_day`` so both cuts come from the same world.

    A folder generated before with the same parameters (its ``generated.json`` says so;
    the simulator's output is the same for the same seed) is reused, so a large size can
    be generated once ahead of its run with ``--scratch``."""
    record = out / "generated.json"
    wanted = {
        "customers": customers, "start": start.isoformat(), "last_day": last_day.isoformat(),
        "as_of": as_of.isoformat(), "seed": SEED, "gzip_web": gzip_web,
    }
    if record.exists() and json.loads(record.read_text())["parameters"] == wanted:
        return {**json.loads(record.read_text())["generation"], "reused": True}
    shutil.rmtree(out, ignore_errors=True)
    began = time.perf_counter()
    counts, peak = in_child(generated_counts, out, customers, start, last_day, as_of, gzip_web)
    generation = {
        "seconds": time.perf_counter() - began, "counts": counts, "peak_rss_mib": peak / 2**20
    }
    record.write_text(json.dumps({"parameters": wanted, "generation": generation}) + "\n")
    return generation


def generated_counts(
    out: Path, customers: int, start: date, last_day: date, as_of: date, gzip_web: bool
) -> dict[str, Any]:
    return generate(
        out, customers, start, last_day, seed=SEED, as_of=as_of, gzip_web=gzip_web
    )["counts"]


# -- the floor ---------------------------------------------------------------------------


def parquet_glob(lake: Path, source: str, entity: str) -> str:
    return str(lake / source / entity / "*.parquet")


def entities(lake: Path) -> list[tuple[str, str]]:
    return sorted((path.parent.name, path.name) for path in lake.glob("*/*") if path.is_dir())


def read_everything(lake: Path) -> dict[str, Any]:
    """DuckDB reading every landed batch once: a row count (Parquet metadata mostly) and
    a full scan (``max`` of every column, so every column chunk is decoded)."""
    con = duckdb.connect()
    timings = {}
    for label, select in (("count_seconds", "count(*)"), ("full_scan_seconds", "max(columns(*))")):
        began = time.perf_counter()
        rows = 0
        for source, entity in entities(lake):
            path = parquet_glob(lake, source, entity)
            result = con.execute(
                f"select {select} from read_parquet('{path}', union_by_name = true)"  # noqa: S608
            ).fetchone()
            rows += result[0] if label == "count_seconds" else 0
        timings[label] = time.perf_counter() - began
        timings.setdefault("rows", rows)
    con.close()
    return timings


HEADLINE_SQL = """
with tickets as (
    select distinct id as ticket_id from read_parquet('{tickets}', union_by_name = true)
),
agents as (
    select id as user_id
    from read_parquet('{users}', union_by_name = true)
    group by id
    having bool_or(role in ('agent', 'admin'))
),
comments as (
    select ticket_id, author_id, is_public, cast(created_at as timestamptz) as occurred_at,
        row_number() over (
            partition by ticket_id order by cast(created_at as timestamptz), audit_id, child_id
        ) as comment_number
    from (
        select distinct on (child_id) *
        from read_parquet('{events}', union_by_name = true)
        where child_type = 'Comment'
        order by child_id, _loaded_at desc
    )
),
opened as (
    select ticket_id, min(occurred_at) as created_at from comments group by ticket_id
),
first_replies as (
    select comments.ticket_id, min(comments.occurred_at) as first_reply_at
    from comments
    inner join agents on comments.author_id = agents.user_id
    where comments.comment_number > 1 and comments.is_public
    group by comments.ticket_id
)
select
    count(*) as tickets,
    median(date_diff('second', opened.created_at, first_replies.first_reply_at) / 60.0)
        as first_reply_minutes_median
from tickets
left join opened using (ticket_id)
left join first_replies using (ticket_id)
"""


def headline_query(lake: Path) -> dict[str, Any]:
    """The service mart's headline numbers (tickets; median minutes to first reply,
    calendar time from the opening comment) in one hand-written query over raw batches."""
    sql = HEADLINE_SQL.format(
        tickets=parquet_glob(lake, "helpdesk", "tickets"),
        users=parquet_glob(lake, "helpdesk", "users"),
        events=parquet_glob(lake, "helpdesk", "ticket_events"),
    )
    con = duckdb.connect()
    began = time.perf_counter()
    tickets, median_minutes = con.execute(sql).fetchone()
    seconds = time.perf_counter() - began
    con.close()
    return {"seconds": seconds, "tickets": tickets, "first_reply_minutes_median": median_minutes}


def floor(lake: Path, dbt_seconds: float) -> dict[str, Any]:
    scan = read_everything(lake)
    headline = headline_query(lake)
    return {
        "read_all_landed": scan,
        "headline_query": headline,
        "dbt_build_x_full_scan": dbt_seconds / scan["full_scan_seconds"],
        "dbt_build_x_headline_query": dbt_seconds / headline["seconds"],
    }


def dbt_nodes(settings: Settings) -> dict[str, int]:
    """What the last ``dbt build`` ran, counted by kind (``model:<materialization>``,
    ``test``): a figure the machine's speed does not move, to set beside its seconds."""
    target = settings.home / "dbt" / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    counted: dict[str, int] = {}
    for result in results:
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] not in {"model", "test"}:
            continue
        kind = node["resource_type"]
        if kind == "model":
            kind += ":" + node["config"]["materialized"]
        counted[kind] = counted.get(kind, 0) + 1
    return dict(sorted(counted.items()))


def own_sql_seconds(settings: Settings) -> float:
    """dbt's floor: the SQL of every model and data test the last ``dbt build`` ran, as it
    compiled it (``run_results.json``), run straight in DuckDB, one statement after the
    other, on a copy of the warehouse it built. A view is created as a view; a table's or
    an incremental model's select is materialized into a temporary table (an incremental
    merge is not replayed, the select it merges is); a test's query is counted."""
    target = settings.home / "dbt" / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    copy = settings.home / "own-sql" / settings.warehouse_path.name  # same catalog name
    copy.parent.mkdir(exist_ok=True)
    for suffix in ("", ".wal"):
        built = settings.warehouse_path.with_name(settings.warehouse_path.name + suffix)
        if built.exists():
            shutil.copyfile(built, copy.with_name(copy.name + suffix))
    con = duckdb.connect(str(copy))
    con.execute("set TimeZone = 'UTC'")
    seconds = 0.0
    for number, result in enumerate(results):
        kind, code = result["unique_id"].split(".")[0], result.get("compiled_code")
        if kind not in {"model", "test"} or not code:
            continue
        if kind == "test":
            sql = f"select count(*) from ({code}) as failures"  # noqa: S608 - dbt's own SQL
        elif nodes[result["unique_id"]]["config"]["materialized"] == "view":
            sql = f"create or replace view {result['relation_name']} as {code}"
        else:
            sql = f"create temp table own_sql_{number} as {code}"
        began = time.perf_counter()
        con.execute(sql).fetchall()
        seconds += time.perf_counter() - began
    con.close()
    shutil.rmtree(copy.parent)
    return seconds


# -- the benchmark -----------------------------------------------------------------------


def total(stages: list[Stage]) -> float:
    return sum(stage.seconds for stage in stages)


def through_airflow(
    sources: Path, scratch: Path, start: date, end: date, direct: list[Stage]
) -> dict:
    """The same full-history run on a real scheduler (``cxw run --catch-up``: one run per
    extract DAG for the whole history, then the ``transform`` run their assets trigger),
    on a fresh home, versus the stages called directly. The local Airflow is started
    first and timed apart, so ``seconds`` is the run on a warm scheduler."""
    from cxw import local_airflow
    from cxw.dag_defaults import SOURCES_END_SETTING, START_DATE

    if start < START_DATE.date():
        return {"skipped": f"history starts before the DAGs' start_date {START_DATE.date()}"}
    home = scratch / "home-airflow"
    with serving(sources, end + timedelta(days=1), home) as env:
        settings = Settings.from_env()
        began = time.perf_counter()
        with local_airflow.LocalAirflow(settings, env={**env, SOURCES_END_SETTING: str(end)}):
            startup = time.perf_counter() - began
            began = time.perf_counter()
            cli.run_range(settings, start, end, env=env, catch_up=True)  # reuses it
            seconds = time.perf_counter() - began
    published = home / "published" / "warehouse.duckdb"
    tasks = 8  # four extract tasks, four transform tasks
    return {
        "startup_seconds": startup,
        "seconds": seconds,
        # Proof the DAG runs did the work: the marts they published, against the direct run's.
        "published_mart_rows": (
            sum(warehouse.mart_row_counts(published).values()) if published.exists() else 0
        ),
        "direct_mart_rows": direct[-1].rows,
        "direct_seconds": total(direct),
        "overhead_seconds": seconds - total(direct),
        "overhead_per_task_seconds": (seconds - total(direct)) / tasks,
        "x_direct": seconds / total(direct),
    }


def benchmark(
    customers: int, days: int, scratch: Path, airflow: bool, compare_days: int | None = None,
    gzip_web: bool = False,
) -> dict[str, Any]:
    start, end = LAST_DAY - timedelta(days=days - 1), LAST_DAY
    next_day = end + timedelta(days=1)
    history, increment = scratch / "sources-history", scratch / "sources-next-day"
    home = scratch / "home"
    shutil.rmtree(home, ignore_errors=True)  # a reused --scratch starts from an empty home
    generation = {
        "history": generate_sources(
            history, customers, start, next_day, as_of=next_day, gzip_web=gzip_web
        ),
        "next_day": generate_sources(
            increment, customers, start, next_day, as_of=next_day + timedelta(days=1),
            gzip_web=gzip_web,
        ),
    }
    full_sql: dict[str, float] = {}
    day_sql: dict[str, float] = {}
    with serving(history, next_day, home):
        full = run_stages(start, end, full_sql)
        floor_numbers = floor(Settings.from_env().lake_dir, full[4].seconds)
    with serving(increment, next_day + timedelta(days=1), home):
        daily = run_stages(next_day, next_day, day_sql)
    # dbt build time / the same compiled SQL straight in DuckDB (None: dbt ran nothing).
    floor_numbers["own_sql_seconds"] = {"full": full_sql["seconds"], "day": day_sql["seconds"]}
    floor_numbers["dbt_nodes"] = {"full": full_sql["nodes"], "day": day_sql["nodes"]}
    floor_numbers["dbt_build_x_own_sql"] = {
        name: stage.seconds / own if own else None
        for name, stage, own in (
            ("full", full[4], full_sql["seconds"]), ("day", daily[4], day_sql["seconds"])
        )
    }
    results: dict[str, Any] = {
        "customers": customers,
        "days": days,
        "gzip_web": gzip_web,
        "period": [start.isoformat(), end.isoformat()],
        "increment_day": next_day.isoformat(),
        "memory_method": memory_method(),
        "generation": generation,
        "full_history": [asdict(stage) for stage in full],
        "full_history_seconds": total(full),
        "increment": [asdict(stage) for stage in daily],
        "increment_seconds": total(daily),
        "increment_fraction": total(daily) / total(full),
        "slowest_stage": max(full, key=lambda stage: stage.seconds).name,
        "floor": floor_numbers,
    }
    if airflow:
        results["airflow"] = through_airflow(history, scratch, start, end, full)
    if compare_days:
        results["scaling"] = scaling(customers, compare_days, scratch, results, gzip_web)
    return results


def scaling(
    customers: int, days: int, scratch: Path, long: Mapping[str, Any], gzip_web: bool = False
) -> dict:
    """The same company size with a shorter history (its own scratch home): does one more
    day cost more after a long history than after a short one?"""
    short = benchmark(
        customers, days, scratch / f"history-{days}d", airflow=False, gzip_web=gzip_web
    )
    by_stage = {stage["name"]: stage["seconds"] for stage in short["increment"]}
    return {
        "short_days": days,
        "long_days": long["days"],
        "short_increment_seconds": short["increment_seconds"],
        "long_increment_seconds": long["increment_seconds"],
        "long_x_short": long["increment_seconds"] / short["increment_seconds"],
        "short_full_history_seconds": short["full_history_seconds"],
        "stages": [
            {
                "name": stage["name"],
                "short_seconds": by_stage[stage["name"]],
                "long_seconds": stage["seconds"],
                "rows": stage["rows"],
            }
            for stage in long["increment"]
        ],
    }


# -- the cost curve ----------------------------------------------------------------------


def landed_rows(stages: list[Mapping[str, Any]]) -> int:
    return sum(stage["rows"] for stage in stages if stage["name"].startswith("extract "))


def peak_mib(stages: list[Mapping[str, Any]]) -> float:
    return max(stage["peak_rss_mib"] for stage in stages)


def exponent(small: float, large: float, small_size: float, large_size: float) -> float | None:
    """How ``small`` -> ``large`` grows with size: log(large/small) / log(size ratio);
    1 is linear. None where a ratio is not positive (nothing to compare)."""
    if min(small, large, small_size, large_size) <= 0 or small_size == large_size:
        return None
    return math.log(large / small) / math.log(large_size / small_size)


def cost_curve(
    sizes: list[int], days: int, scratch: Path, gzip_web: bool = False
) -> dict[str, Any]:
    """The benchmark at each size (its own scratch home): seconds and peak memory of the
    full history and of one more day, and how they grow between successive sizes, against
    customers and against landed rows."""
    runs = [
        benchmark(size, days, scratch / f"size-{size}", airflow=False, gzip_web=gzip_web)
        for size in sizes
    ]
    points = [
        {
            "customers": run["customers"],
            "full_history_seconds": run["full_history_seconds"],
            "full_history_peak_rss_mib": peak_mib(run["full_history"]),
            "full_history_landed_rows": landed_rows(run["full_history"]),
            "increment_seconds": run["increment_seconds"],
            "increment_peak_rss_mib": peak_mib(run["increment"]),
            "increment_landed_rows": landed_rows(run["increment"]),
            "generation_peak_rss_mib": run["generation"]["history"]["peak_rss_mib"],
        }
        for run in runs
    ]
    growth = []
    for small, large in zip(points, points[1:], strict=False):
        by_customers = {
            f"{measure}_exponent": exponent(
                small[measure], large[measure], small["customers"], large["customers"]
            )
            for measure in (
                "full_history_seconds",
                "full_history_peak_rss_mib",
                "increment_seconds",
                "increment_peak_rss_mib",
            )
        }
        growth.append(
            {
                "from_customers": small["customers"],
                "to_customers": large["customers"],
                **by_customers,
                # Against the data: 1 means time grows exactly with the rows landed.
                "full_history_seconds_exponent_vs_landed_rows": exponent(
                    small["full_history_seconds"], large["full_history_seconds"],
                    small["full_history_landed_rows"], large["full_history_landed_rows"],
                ),
                "increment_seconds_exponent_vs_landed_rows": exponent(
                    small["increment_seconds"], large["increment_seconds"],
                    small["increment_landed_rows"], large["increment_landed_rows"],
                ),
            }
        )
    return {
        "days": days,
        "memory_method": memory_method(),
        "curve": points,
        "growth": growth,
        "runs": runs,
    }


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def curve_report(results: Mapping[str, Any]) -> str:
    lines = [
        f"Cost curve, {results['days']} days of history; memory: {results['memory_method']}",
        f"  {'customers':>10}{'landed rows':>13}{'full s':>9}{'full MiB':>10}"
        f"{'day rows':>10}{'day s':>8}{'day MiB':>9}{'gen MiB':>9}",
    ]
    for point in results["curve"]:
        lines.append(
            f"  {point['customers']:>10,}{point['full_history_landed_rows']:>13,}"
            f"{point['full_history_seconds']:>9.1f}{point['full_history_peak_rss_mib']:>10,.0f}"
            f"{point['increment_landed_rows']:>10,}{point['increment_seconds']:>8.1f}"
            f"{point['increment_peak_rss_mib']:>9,.0f}{point['generation_peak_rss_mib']:>9,.0f}"
        )
    lines.append("Growth exponents (log(t2/t1) / log(n2/n1); 1 = linear):")
    for step in results["growth"]:
        lines.append(
            f"  {step['from_customers']:,} -> {step['to_customers']:,}: full history "
            f"{_figure(step['full_history_seconds_exponent'])} by customers, "
            f"{_figure(step['full_history_seconds_exponent_vs_landed_rows'])} by landed rows; "
            f"one more day {_figure(step['increment_seconds_exponent'])} by customers, "
            f"{_figure(step['increment_seconds_exponent_vs_landed_rows'])} by its rows; "
            f"peak memory {_figure(step['full_history_peak_rss_mib_exponent'])} (full), "
            f"{_figure(step['increment_peak_rss_mib_exponent'])} (day)"
        )
    return "\n".join(lines)


# -- output ------------------------------------------------------------------------------


def table(title: str, stages: list[Mapping[str, Any]]) -> str:
    lines = [
        title,
        f"  {'stage':<18}{'seconds':>9}{'CPU s':>9}{'rows':>12}{'rows/s':>12}{'peak MiB':>10}",
    ]
    for stage in stages:
        lines.append(
            f"  {stage['name']:<18}{stage['seconds']:>9.2f}{stage.get('cpu_seconds', 0):>9.2f}"
            f"{stage['rows']:>12,}{stage['rows_per_second']:>12,.0f}"
            f"{stage['peak_rss_mib']:>10,.0f}"
        )
    lines.append(
        f"  {'total':<18}{sum(stage['seconds'] for stage in stages):>9.2f}"
        f"{sum(stage.get('cpu_seconds', 0) for stage in stages):>9.2f}"
    )
    return "\n".join(lines)


def report(results: Mapping[str, Any]) -> str:
    floor_numbers = results["floor"]
    scan, headline = floor_numbers["read_all_landed"], floor_numbers["headline_query"]
    generation = results["generation"]
    lines = [
        f"{results['customers']:,} customers x {results['days']} days "
        f"({results['period'][0]} .. {results['period'][1]}); memory: {results['memory_method']}",
        f"generation (not counted): history {generation['history']['seconds']:.1f} s "
        f"({generation['history']['peak_rss_mib']:,.0f} MiB), "
        f"next day {generation['next_day']['seconds']:.1f} s",
        "",
        table("Full history, one window:", results["full_history"]),
        "",
        table(f"One more day ({results['increment_day']}):", results["increment"]),
        f"  increment / full build: {results['increment_fraction']:.1%}",
        "",
        "Floor (DuckDB over the landed Parquet):",
        f"  read all landed ({scan['rows']:,} rows): count(*) {scan['count_seconds']:.2f} s, "
        f"full scan {scan['full_scan_seconds']:.2f} s",
        f"  headline query: {headline['seconds']:.2f} s ({headline['tickets']:,} tickets, "
        f"median first reply {headline['first_reply_minutes_median'] or 0:.1f} min)",
        f"  dbt build = {floor_numbers['dbt_build_x_full_scan']:.0f}x the full scan, "
        f"{floor_numbers['dbt_build_x_headline_query']:.0f}x the headline query",
        "  dbt build / its own compiled SQL straight in DuckDB: "
        + ", ".join(
            f"{name} {ratio:.1f}x ({floor_numbers['own_sql_seconds'][name]:.2f} s)"
            if ratio else f"{name} -"
            for name, ratio in floor_numbers["dbt_build_x_own_sql"].items()
        ),
        "  dbt nodes run: " + ", ".join(
            f"{name} {sum(counted.values())} ("
            + ", ".join(f"{count} {kind}" for kind, count in counted.items()) + ")"
            for name, counted in floor_numbers.get("dbt_nodes", {}).items()
        ),
        f"slowest stage: {results['slowest_stage']}",
    ]
    air = results.get("airflow", {})
    if "skipped" in air:
        lines.append(f"through Airflow: skipped ({air['skipped']})")
    elif air:
        lines.append(
            f"through Airflow (warm scheduler, catch-up): {air['seconds']:.1f} s vs "
            f"{air['direct_seconds']:.1f} s direct ({air['x_direct']:.2f}x, "
            f"{air['overhead_seconds']:+.1f} s, {air['overhead_per_task_seconds']:+.1f} s per "
            f"task); Airflow start-up {air['startup_seconds']:.1f} s apart; mart rows "
            f"published {air['published_mart_rows']:,} (direct: {air['direct_mart_rows']:,})"
        )
    scale = results.get("scaling")
    if scale:
        lines += [
            "",
            f"One more day after {scale['short_days']} vs after {scale['long_days']} days "
            f"of history (same {results['customers']:,} customers):",
            f"  {'stage':<18}{'short s':>9}{'long s':>9}",
            *(
                f"  {stage['name']:<18}{stage['short_seconds']:>9.2f}{stage['long_seconds']:>9.2f}"
                for stage in scale["stages"]
            ),
            f"  {'total':<18}{scale['short_increment_seconds']:>9.2f}"
            f"{scale['long_increment_seconds']:>9.2f}"
            f"  (long / short: {scale['long_x_short']:.2f}x)",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--sizes", type=lambda text: [int(n) for n in text.split(",")],
                        default=None, help="e.g. 500,5000,50000: the cost curve over these "
                        "company sizes (instead of one --customers run)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--through-airflow", action="store_true",
                        help="also run the full history through Airflow (slow)")
    parser.add_argument("--compare-days", type=int, default=None,
                        help="also run a history of this many days at the same size and "
                        "compare the cost of one more day after each")
    parser.add_argument("--gzip-web", action="store_true",
                        help="generate the GA4 exports gzipped (.jsonl.gz, as GA4 exports "
                        "often are): ~6 GB of JSON a year at 50,000 customers, 62 GB at "
                        "500,000, against ~1/8 of that gzipped")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="working folder (default: a temporary one under /tmp, removed)")
    args = parser.parse_args(argv)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="cxw-bench-", dir="/tmp"))
    try:
        if args.sizes:
            results = cost_curve(args.sizes, args.days, scratch, args.gzip_web)
        else:
            results = benchmark(
                args.customers, args.days, scratch, args.through_airflow, args.compare_days,
                args.gzip_web,
            )
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.sizes:
        print("\n\n".join([*(report(run) for run in results["runs"]), curve_report(results)]))
    else:
        print(report(results))


if __name__ == "__main__":
    main()

"""The demo company run through ``cxw``: generate it, serve its helpdesk on loopback, point
the source settings at it, then hand over to cxw's own public functions. ``cxw`` never
imports this package; the demo is a user of the product like any other.

    python -m cxw_demo demo [--customers N] [--backfill]   # make demo
    python -m cxw_demo airflow [--port 8080]               # make airflow
    python -m cxw_demo cluster --workers 2                 # cxw cluster on the demo company
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cxw import cli, cluster
from cxw.dag_defaults import SOURCES_END_SETTING
from cxw.settings import Settings
from cxw_demo.config import DEFAULT_AGENT_EMAIL, ORDER_FIELD_ID
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer

# The demo period: six months of the demo company (183 days), all in the past.
DEMO_START = date(2026, 3, 1)
DEMO_END = date(2026, 8, 30)
DEMO_CUSTOMERS = 2000
# The cluster's demo company: smaller, the days up to yesterday (its DAGs run yesterday).
CLUSTER_CUSTOMERS = 300
CLUSTER_DAYS = 28
# Any of these set means the user configured sources of their own: `make airflow` then
# serves those, not the demo company.
SOURCE_SETTINGS = (
    "AIRFLOW_CONN_HELPDESK_API", "AIRFLOW_CONN_ORDERS_DB",
    "CXW_WEB_EXPORT_PATH", "CXW_SURVEY_DROP_PATH",
)


def sources_dir(settings: Settings) -> Path:
    """Where ``make demo`` keeps its company (``make airflow`` finds it there)."""
    return settings.home / "demo" / "sources"


def demo_environment(
    sources: Path, helpdesk_url: str, token: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: this process's environment) with the source settings of the
    README pointing at the demo company's systems."""
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


def generate_company(sources: Path, customers: int, start: date, end: date) -> dict[str, Any]:
    """Generate the demo company into ``sources``, saying so; returns its manifest."""
    began = time.monotonic()
    print(f"Generating the demo company ({customers:,} customers, {start} .. {end}) ...",
          end=" ", flush=True)
    manifest = generate(sources, customers, start, end, seed=42)
    print(f"ok ({time.monotonic() - began:.1f}s): {json.dumps(manifest['counts'])}")
    return manifest


@contextmanager
def served_sources(
    sources: Path, last_day: date | None = None, base: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """The demo company's helpdesk served as a Zendesk API on loopback (its clock at the
    end of ``last_day``, else real time); yields ``demo_environment`` pointing at it."""
    token = secrets.token_urlsafe(16)
    now = None
    if last_day is not None:
        now = int(datetime.combine(last_day + timedelta(days=1), datetime.min.time(),
                                   UTC).timestamp())
    with HelpdeskServer(sources / "helpdesk", token=token, now=now) as server:
        print(f"Demo helpdesk (Zendesk API) serving on {server.url}")
        yield demo_environment(sources, server.url, token, base=base)


def run_demo(
    settings: Settings,
    customers: int = DEMO_CUSTOMERS,
    start: date = DEMO_START,
    end: date = DEMO_END,
    backfill: bool = False,
) -> None:
    """``make demo``: generate the demo company, serve its helpdesk on loopback, run the
    whole pipeline through Airflow over the period (``cxw run``'s path) and print the key
    numbers."""
    sources = sources_dir(settings)
    generate_company(sources, customers, start, end)
    with served_sources(sources, end) as env:
        cli.run_range(settings, start, end, env=env, catch_up=not backfill)
    cli.show(settings)


def serve_airflow(settings: Settings, port: int = 8080, host: str = "127.0.0.1") -> None:
    """``make airflow``: ``cxw airflow``, and after ``make demo``, with no sources
    configured, on the demo company: its helpdesk is served alongside, the connections
    point at it and the extract DAGs end on its last day."""
    env = dict(os.environ)
    sources = sources_dir(settings)
    manifest = sources / "manifest.json"
    if any(env.get(name) for name in SOURCE_SETTINGS) or not manifest.exists():
        cli.serve_airflow(settings, port=port, host=host, env=env)
        return
    last_day = date.fromisoformat(json.loads(manifest.read_text())["end"])
    with served_sources(sources, last_day, base=env) as demo_env:
        demo_env[SOURCES_END_SETTING] = last_day.isoformat()
        cli.serve_airflow(settings, port=port, host=host, env=demo_env)


def serve_cluster(
    settings: Settings,
    customers: int = CLUSTER_CUSTOMERS,
    days: int = CLUSTER_DAYS,
    **options: Any,
) -> None:
    """``cxw cluster`` on the demo company: its last ``days`` days up to yesterday, in a
    home of its own (``CXW_HOME/cluster-demo``), its helpdesk served on loopback."""
    # Not `make demo`'s company (other dates and size): a home of its own keeps the two
    # companies' records out of one lake.
    os.environ["CXW_HOME"] = str(settings.home / "cluster-demo")
    settings = Settings.from_env()
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    sources = settings.home / "cluster" / "demo-sources"
    generate_company(sources, customers, start, end)
    notes = (
        f"Unpaused, each extract DAG runs yesterday's interval ({end}), then `transform`.\n"
        f"For the whole demo period trigger each extract DAG with window_start={start}, "
        f"window_end={end + timedelta(days=1)} (the trigger form's params)."
    )
    with served_sources(sources) as env:
        cluster.serve(settings, env=env, notes=notes, **options)


def main(argv: Sequence[str]) -> int:
    """``python -m cxw_demo demo|airflow|cluster ...`` (``cxw_demo.__main__`` hands them
    over: their options are parsed here)."""
    parser = argparse.ArgumentParser(prog="python -m cxw_demo")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", description="make demo: the demo company, end to end")
    demo.add_argument(
        "--customers", type=int, default=DEMO_CUSTOMERS, help="size of the demo company"
    )
    demo.add_argument(
        "--backfill", action="store_true",
        help="an Airflow backfill, one run per source and day (slower than the default "
        "catch-up: one run per source for the whole period)",
    )
    cli.add_airflow_arguments(commands.add_parser(
        "airflow", description="make airflow: cxw airflow, on the demo company after make demo"
    ))
    cluster_command = commands.add_parser(
        "cluster", description="cxw cluster on a demo company up to yesterday"
    )
    cli.add_cluster_arguments(cluster_command)
    cluster_command.add_argument(
        "--customers", type=int, default=CLUSTER_CUSTOMERS, help="size of the demo company"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env(lenient=True)
    if args.command == "demo":
        action = partial(run_demo, settings, customers=args.customers, backfill=args.backfill)
    elif args.command == "airflow":
        action = partial(serve_airflow, settings, port=args.port, host=args.host)
    else:
        action = partial(serve_cluster, settings, customers=args.customers,
                         **cli.cluster_options(args))
    return cli.run_command(f"cxw_demo {args.command}", action)

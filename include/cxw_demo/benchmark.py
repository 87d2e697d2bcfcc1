"""Time each stage of a generation: ``python -m cxw_demo.benchmark --customers 5000 --days 365``.

Prints seconds per stage (not an assertion: machines differ). Measured on the
development machine (2 vCPUs), uncompressed GA4:

* tiny, 30 customers x 10 days: 0.2-0.4 s
* medium, 5,000 customers x 365 days: 5.4-6 s (world 0.5, orders_db 0.4, ga4 3.6-4.1,
  surveys 0.5, helpdesk 0.4)
* large, 50,000 customers x 365 days: 66-85 s through ``python -m cxw_demo generate``
  (143k orders, 6.2M GA4 events, 22.4k tickets; 6.4 GB on disk); 123 s with ``--gzip``.
  Peak memory since GA4 events are generated a day at a time: 641 MiB (was 3.5 GiB);
  5,000 x 365: 212 MiB (was 495 MiB)
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from cxw_demo.config import SimulationConfig
from cxw_demo.ga4 import write_ga4
from cxw_demo.helpdesk_data import write_helpdesk_of
from cxw_demo.orders_db import write_orders_db
from cxw_demo.surveys import write_surveys
from cxw_demo.world import build_world


def run(customers: int, days: int, seed: int, out: Path) -> dict[str, float]:
    """Generate into ``out`` stage by stage; returns seconds per stage and in total."""
    start = dt.date(2025, 1, 1)
    config = SimulationConfig(customers, start, start + dt.timedelta(days=days - 1), seed)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    world = build_world(config)
    timings["world"] = time.perf_counter() - began
    stages = (
        ("orders_db", lambda: write_orders_db(world, out / "shop.db")),
        ("ga4", lambda: write_ga4(world, out / "ga4")),
        ("surveys", lambda: write_surveys(world, out / "surveys")),
        ("helpdesk", lambda: write_helpdesk_of(world, out / "helpdesk")),
    )
    for name, stage in stages:
        mark = time.perf_counter()
        print(f"{name}: {stage()}")
        timings[name] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - began
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        timings = run(args.customers, args.days, args.seed, out)
    print(", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))


if __name__ == "__main__":
    main()

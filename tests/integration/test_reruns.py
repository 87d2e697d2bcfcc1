"""Reruns and backfills of any range leave the warehouse as of the latest landed data.

The demo company lands in three consecutive ranges (the warehouse built after the
third, as each transform run would), then the first range is run again, as a backfill
or a rerun after a fix would. That rerun's transform asks for its own range's end, but
the lake holds later days: it must build as of the latest landed day (otherwise tenure
and days since the last order go negative and the mart suite rejects the build), pass
the marts' suites, and give marts identical, row for row, to one straight run over the
whole period in another home. The DAG tasks' functions are called directly: this is
about the data, not about Airflow.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cxw import pipeline
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from cxw_demo.run import demo_environment

START, END = date(2026, 3, 1), date(2026, 4, 30)
RANGES = [
    (date(2026, 3, 1), date(2026, 3, 20)),
    (date(2026, 3, 21), date(2026, 4, 10)),
    (date(2026, 4, 11), date(2026, 4, 30)),
]
CUSTOMERS = 60
EXTRACTORS = (
    pipeline.land_helpdesk,
    pipeline.land_web,
    pipeline.land_orders,
    pipeline.land_surveys,
)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def transform(range_end: date) -> Path:
    """The transform DAG's tasks for an extract run that ended with ``range_end``."""
    warehouse = Path(pipeline.build_warehouse(range_end))
    assert all(pipeline.validate_marts().values())
    return warehouse


def marts(path: Path) -> dict[str, list[tuple]]:
    """Every mart table's rows (all columns but load times), sorted, floats rounded."""
    tables: dict[str, list[tuple]] = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('service', 'experience') order by 1"
        ).fetchall()
        for (name,) in names:
            columns = [
                column
                for (column,) in connection.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema || '.' || table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if "loaded_at" not in column
            ]
            select = ", ".join(f'"{column}"' for column in columns)
            rows = connection.execute(f"select {select} from {name}").fetchall()  # noqa: S608
            tables[name] = sorted(tuple(map(comparable, row)) for row in rows)
    return tables


def comparable(value: Any) -> tuple[int, str]:
    if value is None:
        return (0, "")
    if isinstance(value, float):
        return (1, f"{value:.9e}")
    return (1, str(value))


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rerun-sources")
    generate(folder, CUSTOMERS, START, END, seed=11)
    return folder


def run_ranges(
    sources: Path, home: Path, ranges: list[tuple[date, date]], build_after: set[int]
) -> Path:
    """Land each range with every extractor, building after the runs in ``build_after``."""
    token = secrets.token_urlsafe(12)
    now = int(midnight(END + timedelta(days=1)).timestamp())  # the helpdesk's present
    built = None
    with pytest.MonkeyPatch.context() as patch, HelpdeskServer(
        sources / "helpdesk", token=token, now=now
    ) as server:
        patch.setenv("CXW_HOME", str(home))
        for name, value in demo_environment(sources, server.url, token, base={}).items():
            patch.setenv(name, value)
        for number, (first, last) in enumerate(ranges):
            for extract in EXTRACTORS:
                extract(midnight(first), midnight(last + timedelta(days=1)))
            if number in build_after:
                built = transform(last)
    assert built is not None
    return built


def test_an_older_range_rerun_after_later_data_gives_the_straight_run_s_marts(
    sources: Path, tmp_path: Path
) -> None:
    straight = run_ranges(sources, tmp_path / "straight", [(START, END)], {0})
    # Three ranges (built after the third), then the first again, built as its own run.
    rerun = run_ranges(sources, tmp_path / "ranges", [*RANGES, RANGES[0]], {2, 3})

    with duckdb.connect(str(rerun), read_only=True) as connection:
        (tenure,) = connection.execute(
            "select min(tenure_days) from experience.customers"
        ).fetchone()
    assert tenure >= 0, "built as of the latest landed day, not the rerun range's end"
    expected, actual = marts(straight), marts(rerun)
    assert actual.keys() == expected.keys()
    for table in expected:
        assert actual[table] == expected[table], f"{table} differs from the straight run"

"""One source failing never stops the others, and the transform publishes what landed.

The hand-made sources (tests/handmade, see its README) land on Monday 2026-02-02
and the warehouse is published. On Tuesday the helpdesk is down (its sync ends at its
deadline) and Tuesday's survey export is broken (a CSAT score of 9): the web and orders
sources still land Tuesday, the survey run lands nothing but is recorded as rejected,
and the transform (run at its deadline time, on what landed) builds and publishes
Tuesday's orders. The run summary shows the helpdesk stale and the rejected file. The
DAG tasks' functions are called directly, as the DAGs' tasks call them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from cxw import pipeline, run_summary
from cxw.settings import Settings
from cxw.sources.helpdesk import SyncBoundExceeded
from cxw_demo.helpdesk_server import HelpdeskServer
from tests.handmade.shop import HANDMADE, apply_days, create_orders_db

MONDAY, TUESDAY = date(2026, 2, 2), date(2026, 2, 3)
TOKEN = "handmade-token"
SOURCES = ("helpdesk", "web", "orders", "surveys")


def window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), UTC)
    return start, start + timedelta(days=1)


def transform(day: date) -> Path:
    pipeline.build_warehouse(day)
    pipeline.validate_marts()
    pipeline.publish()
    return Settings.from_env().published_path


def orders_published(path: Path) -> dict[date, int]:
    """Orders placed per day in the published warehouse."""
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "select order_date, orders_placed from experience.daily_orders"
        ).fetchall()
    return {day: placed for day, placed in rows if placed}


def test_a_failing_source_does_not_stop_the_others_or_the_publish(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = create_orders_db(tmp_path / "shop.db", "orders_day1")
    drop = tmp_path / "surveys"
    drop.mkdir()
    shutil.copy(HANDMADE / "surveys" / "responses_20260202.csv", drop)
    monkeypatch.setenv("AIRFLOW_CONN_ORDERS_DB", f"sqlite:///{shop}")
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(HANDMADE / "ga4"))
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(drop))
    monkeypatch.setenv("CXW_EMAIL_SALT", "salt")
    monkeypatch.setenv("CXW_HELPDESK_SYNC_DEADLINE_SECONDS", "3")
    now = int(datetime(2026, 2, 3, 0, 30, tzinfo=UTC).timestamp())
    with HelpdeskServer(HANDMADE / "helpdesk", token=TOKEN, now=now) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_HELPDESK_API",
            f"http://{quote('agent@shop.example', safe='')}:{TOKEN}@127.0.0.1:{server.port}"
            "?order_field_id=360000000001",
        )
        for source in SOURCES:
            assert pipeline.land_source(source, *window(MONDAY))["rejected"] is None
    published = transform(MONDAY)
    monday_orders = orders_published(published)

    # Tuesday: the helpdesk is gone (nothing listens on its port any more) ...
    apply_days(shop, "orders_day2")
    broken = (HANDMADE / "surveys" / "responses_20260203.csv").read_text(encoding="utf-8-sig")
    header, first, *rest = broken.splitlines(keepends=True)
    fields = first.split(",")
    fields[7] = "9" if fields[1] == "csat" else "42"  # out of range for csat (1-5) and nps
    (drop / "responses_20260203.csv").write_text(header + ",".join(fields) + "".join(rest))
    with pytest.raises(SyncBoundExceeded, match="past its deadline of 3 s"):
        pipeline.land_source("helpdesk", *window(TUESDAY))
    assert pipeline.land_source("web", *window(TUESDAY))["rejected"] is None
    assert pipeline.land_source("orders", *window(TUESDAY))["rejected"] is None
    surveys = pipeline.land_source("surveys", *window(TUESDAY))
    assert surveys["landed"] == {}
    assert surveys["rejected"].startswith("surveys: 1 rejected (the rest landed): ")
    assert "\n" not in surveys["rejected"]
    with pytest.raises(pipeline.DataRejected, match="responses_20260203|20260203T000000"):
        pipeline.fail_on_rejections(surveys)

    # ... and the transform, at its deadline, publishes what landed: Tuesday's orders.
    published = transform(TUESDAY)
    # Monday: orders 1001, 1002 and 1004; Tuesday adds 1003 (cancelled) and 1005.
    assert TUESDAY not in monday_orders
    assert orders_published(published)[TUESDAY] >= 1

    text = run_summary.summary(Settings.from_env(), TUESDAY)
    assert "FAILED: helpdesk.tickets: sync stopped after" in text
    assert "STALE: data up to 2026-02-02, 1 day(s) behind 2026-02-03" in text
    assert "rejected responses_20260203.csv: surveys.responses: batch 20260203" in text

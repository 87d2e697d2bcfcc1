"""Each extractor against the demo simulator, then against the same sources with the
simulator's fault switches on: every source's bad batch is quarantined with a clear
error, and what was already published stays exactly as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from cxw import pipeline
from cxw.landing import BatchRejected, FilesRejected
from cxw.settings import Settings
from cxw_demo.config import DEFAULT_AGENT_EMAIL, ORDER_FIELD_ID
from cxw_demo.faults import inject_faults
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer

START, END = date(2026, 5, 1), date(2026, 5, 10)
WINDOW = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 11, tzinfo=UTC))
TOKEN = "fault-token"
NOW = int(datetime(2026, 5, 11, tzinfo=UTC).timestamp())


def point_at(patch: pytest.MonkeyPatch, sources: Path, server: HelpdeskServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    patch.setenv(
        "AIRFLOW_CONN_HELPDESK_API",
        f"http://{quote(DEFAULT_AGENT_EMAIL, safe='')}:{TOKEN}@127.0.0.1:{port}"
        f"?order_field_id={ORDER_FIELD_ID}",
    )
    patch.setenv("AIRFLOW_CONN_ORDERS_DB", f"sqlite:///{sources / 'shop.db'}")
    patch.setenv("CXW_WEB_EXPORT_PATH", str(sources / "ga4"))
    patch.setenv("CXW_SURVEY_DROP_PATH", str(sources / "surveys"))


def published(settings: Settings) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(settings.lake_dir.rglob("*.parquet"))}


EXTRACTORS = {
    "helpdesk": pipeline.land_helpdesk,
    "web": pipeline.land_web,
    "orders": pipeline.land_orders,
    "surveys": pipeline.land_surveys,
}


def test_bad_batches_are_quarantined_and_published_data_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_HOME", str(tmp_path / "cxw"))
    settings = Settings.from_env()
    sources = tmp_path / "sources"
    manifest = generate(sources, 40, START, END, seed=3)

    with HelpdeskServer(sources / "helpdesk", token=TOKEN, now=NOW) as server:
        point_at(monkeypatch, sources, server)
        landed = {source: extract(*WINDOW) for source, extract in EXTRACTORS.items()}
    assert sum(landed["orders"].values()) >= manifest["counts"]["orders_db"]["orders"]
    assert sum(landed["web"].values()) == manifest["counts"]["ga4"]["events"]
    before = published(settings)

    damaged = inject_faults(sources, ["missing_ids", "negative_amounts"])
    assert damaged["negative_amounts"], "the orders database was damaged"
    with HelpdeskServer(sources / "helpdesk", token=TOKEN, now=NOW) as server:
        point_at(monkeypatch, sources, server)
        for source, extract in EXTRACTORS.items():
            with pytest.raises((BatchRejected, FilesRejected)) as caught:
                extract(*WINDOW)
            message = str(caught.value)
            assert "expect_" in message, f"{source}: the failed rule is named"
            assert "offending row" in message, f"{source}: the bad records are shown"
            quarantined = list((settings.quarantine_dir / source).rglob("validation.json"))
            assert quarantined, f"{source}: the bad batch is kept in quarantine"

    after = published(settings)
    assert set(after) == set(before), "no batch appeared or vanished"
    rejected = 0
    for path, content in before.items():
        source_entity = path.parent.relative_to(settings.lake_dir)
        if any((settings.quarantine_dir / source_entity).glob(f"{path.stem}*")):
            rejected += 1
            assert after[path] == content, f"{path} changed although its rerun was rejected"
    assert rejected >= 4, "one rejected batch per source at least"

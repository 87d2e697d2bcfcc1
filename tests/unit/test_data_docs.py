"""GX Data Docs: every kept validation result is rendered by GX's own site builder, once
per run, into a site that opens offline (no CDN scripts or stylesheets)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cxw import pipeline
from cxw.settings import Settings
from cxw.validation import build_data_docs, validate_frame

NOW = datetime(2026, 1, 2, tzinfo=UTC)
SECRET = "jane.doe-at-example.com"
REMOTE_ASSET = re.compile(
    r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//|<link\b[^>]*\bhref=[\"']?(?:https?:)?//",
    re.IGNORECASE,
)


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "suites" / "contacts.json"
    path.parent.mkdir()
    path.write_text(json.dumps({
        "name": "people.contacts",
        "expectations": [
            {"type": "expect_column_to_exist", "kwargs": {"column": "email"}},
            {"type": "expect_column_values_to_match_regex",
             "kwargs": {"column": "email", "regex": "^[^@]+@[^@]+$"}},
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "score", "min_value": 0, "max_value": 10}},
        ],
    }))
    return path


def frame(email: str, score: int) -> pd.DataFrame:
    return pd.DataFrame({"email": ["a@example.com", email], "score": [3, score]})


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_results_are_rendered_into_an_offline_data_docs_site(
    tmp_path: Path, suite_file: Path
) -> None:
    store, site = tmp_path / "gx" / "validations", tmp_path / "gx-data-docs"
    good = validate_frame(
        frame("b@example.com", 7), suite_file, NOW, results_store=store, batch_identifier="day1"
    )
    bad = validate_frame(
        frame(SECRET, 11), suite_file, NOW, results_store=store, batch_identifier="day2"
    )
    assert good.success and not bad.success
    # validate_frame still reports as before: failures with masked sample rows
    assert {f.expectation for f in bad.failures} == {
        "expect_column_values_to_match_regex", "expect_column_values_to_be_between"
    }
    assert bad.failures[0].sample == [{"email": "<masked>", "score": 11}]

    index = build_data_docs(store, site)

    assert index == site / "index.html" and index.exists()
    html = index.read_text()
    assert "day1" in html and "day2" in html and "people.contacts" in html
    validation_pages = sorted((site / "validations").rglob("*.html"))
    assert [page.stem for page in validation_pages] == ["day1", "day2"]
    assert "Failed" in validation_pages[1].read_text()
    for page in pages(site):
        text = page.read_text()
        assert not REMOTE_ASSET.search(text), page
        assert "amazonaws.com" not in text, page  # the logo comes from static/images
        assert SECRET not in text, page  # personal data stays masked in the report
    assert (site / "static" / "scripts" / "cxw-offline.js").exists()
    assert (site / "static" / "images" / "logo-long.png").exists()
    assert SECRET not in "".join(path.read_text() for path in store.rglob("*.json"))


def test_a_rebuild_renders_only_new_results(tmp_path: Path, suite_file: Path) -> None:
    store, site = tmp_path / "store", tmp_path / "site"
    validate_frame(frame("b@example.com", 1), suite_file, NOW, results_store=store,
                   batch_identifier="day1")
    build_data_docs(store, site)
    (first,) = (site / "validations").rglob("*.html")
    rendered = first.read_text()
    first.write_text(rendered.replace("Expectation Validation Result", "kept from last build"))

    validate_frame(frame("c@example.com", 2), suite_file, NOW, results_store=store,
                   batch_identifier="day2")
    build_data_docs(store, site)

    assert "kept from last build" in first.read_text()
    assert len(list((site / "validations").rglob("*.html"))) == 2
    assert "day1" in (site / "index.html").read_text()
    assert "day2" in (site / "index.html").read_text()


def test_landed_batches_keep_their_result_for_the_data_docs(cxw_home: Path) -> None:
    from test_landing import WINDOW, land, orders_rows

    settings = Settings.from_env()
    land(orders_rows(), settings)
    (kept,) = settings.gx_results_dir.rglob("*.json")
    assert kept.stem == WINDOW.batch_id
    assert "landing" in kept.parts and "orders" in kept.parts


def test_mart_results_reach_the_data_docs(cxw_home: Path) -> None:
    from test_mart_validation import make_warehouse

    settings = Settings.from_env()
    settings.warehouse_path.parent.mkdir(parents=True)
    make_warehouse(settings.warehouse_path, csat_pct=80)
    assert pipeline.validate_marts() == {"service.agents": True}
    (kept,) = settings.gx_results_dir.rglob("*.json")
    assert kept.parts[-5:-2] == ("service", "agents", "marts")
    html = build_data_docs(settings.gx_results_dir, settings.gx_data_docs_dir).read_text()
    assert "service.agents" in html and kept.stem in html


def test_build_reports_builds_the_data_docs(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.reports, "build_dashboard", lambda *_: Path("dashboard.html"))
    monkeypatch.setattr(pipeline.warehouse, "build_docs", lambda *_: Path("dbt.html"))
    settings = Settings.from_env()
    built = pipeline.build_reports()
    assert built["gx_data_docs"] == str(settings.reports_dir / "gx-data-docs" / "index.html")
    assert Path(built["gx_data_docs"]).exists()


def test_a_rebuild_renders_suite_pages_only_when_their_suite_changed(
    tmp_path: Path, suite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cxw.validation.EXPECTATIONS_DIR", suite_file.parent)
    store, site = tmp_path / "store", tmp_path / "site"
    validate_frame(frame("b@example.com", 1), suite_file, NOW, results_store=store,
                   batch_identifier="day1")
    build_data_docs(store, site)
    (suite_page,) = (site / "expectations").rglob("*.html")
    suite_page.write_text(suite_page.read_text().replace("people.contacts", "kept suite page"))
    index = site / "index.html"
    index.write_text(index.read_text() + "<!-- kept index -->")

    build_data_docs(store, site)  # nothing new: nothing rendered, not even the index
    assert "kept index" in index.read_text()

    validate_frame(frame("c@example.com", 2), suite_file, NOW, results_store=store,
                   batch_identifier="day2")
    build_data_docs(store, site)  # a new result: its page and the index, not the suite's
    assert "kept suite page" in suite_page.read_text()
    assert "day2" in index.read_text() and "kept index" not in index.read_text()

    suite_file.write_text(suite_file.read_text())  # the suite changed (a newer file)
    build_data_docs(store, site)
    assert "kept suite page" not in suite_page.read_text()


def test_a_rebuild_loads_no_unchanged_suite_and_drops_a_removed_one(
    tmp_path: Path, suite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cxw.validation

    monkeypatch.setattr("cxw.validation.EXPECTATIONS_DIR", suite_file.parent)
    other = suite_file.with_name("orders.json")
    other.write_text(json.dumps({"name": "shop.orders", "expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": "id"}},
    ]}))
    store, site = tmp_path / "store", tmp_path / "site"
    validate_frame(frame("b@example.com", 1), suite_file, NOW, results_store=store,
                   batch_identifier="day1")
    build_data_docs(store, site)

    def not_again(path: Path) -> None:
        raise AssertionError(f"{path} loaded again though unchanged")

    load_suite = cxw.validation.load_suite
    monkeypatch.setattr(cxw.validation, "load_suite", not_again)
    validate_frame(frame("c@example.com", 2), suite_file, NOW, results_store=store,
                   batch_identifier="day2")
    build_data_docs(store, site)  # a new result: the index again, with both suites
    index = (site / "index.html").read_text()
    assert "day2" in index and "people.contacts" in index and "shop.orders" in index

    monkeypatch.setattr(cxw.validation, "load_suite", load_suite)
    other.unlink()
    build_data_docs(store, site)  # no new result: the removed suite still leaves
    index = (site / "index.html").read_text()
    assert "people.contacts" in index and "shop.orders" not in index
    assert [page.stem for page in (site / "expectations").rglob("*.html")] == ["contacts"]

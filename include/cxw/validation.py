"""Great Expectations checks for every batch before it is published.

Suites are JSON files in ``expectations/`` (reviewable, versioned), one per entity:
``expectations/<source>/<entity>.json``. A batch is validated as a pandas DataFrame
(GX cannot validate DuckDB through SQLAlchemy; see traps.md). Suites may refer to
run-time parameters (``{"$PARAMETER": "latest_plausible_at"}``) for checks that depend
on the load time.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from cxw.lake import BATCH_COLUMNS
from cxw.settings import EXPECTATIONS_DIR

# GX phones home for usage statistics unless told not to; this pipeline runs offline.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
log = logging.getLogger(__name__)

SAMPLE_ROWS = 3
RAW_RECORD = "_record"  # the record as the source sent it (JSON sources)
# How far in the future a source timestamp may lie before it counts as absurd.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass
class FailedExpectation:
    expectation: str
    kwargs: dict[str, Any]
    unexpected_count: int | None
    sample: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items() if k != "batch_id")
        count = "" if self.unexpected_count is None else f" ({self.unexpected_count} rows)"
        lines = [f"  - {self.expectation}({args}){count}"]
        lines += [f"      offending row: {row}" for row in self.sample]
        return "\n".join(lines)


@dataclass
class ValidationReport:
    suite_name: str
    success: bool
    row_count: int
    failures: list[FailedExpectation]
    raw: dict[str, Any]


def suite_path(source: str, entity: str) -> Path:
    return EXPECTATIONS_DIR / source / f"{entity}.json"


def load_suite(path: Path):
    import great_expectations as gx

    spec = json.loads(path.read_text())
    suite = gx.ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta") or {}
    )
    # GX logs and drops an expectation it cannot build (a typo in its type or kwargs):
    # a suite that silently checks less than it says is worse than no suite.
    loaded = {expectation.expectation_type for expectation in suite.expectations}
    dropped = [e["type"] for e in spec["expectations"] if e["type"] not in loaded]
    if len(suite.expectations) != len(spec["expectations"]) or dropped:
        raise ValueError(f"suite {path} has expectations GX cannot build: {dropped}")
    return suite


#: The expectations that hold over a whole batch, not row by row: a batch landed in chunks
#: (``cxw.landing.land_chunks``) has them checked once more across its chunks.
UNIQUENESS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def uniqueness_rules(suite_file: Path) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """The suite's uniqueness expectations: (type, kwargs, the key's columns) each. One
    with ``mostly`` or a ``row_condition`` raises: the check across chunks is exact."""
    spec = json.loads(suite_file.read_text())
    rules = []
    for expectation in spec["expectations"]:
        if expectation["type"] in UNIQUENESS:
            kwargs = expectation.get("kwargs") or {}
            if {"mostly", "row_condition"} & set(kwargs):
                raise ValueError(
                    f"suite {suite_file}: {expectation['type']} with mostly or row_condition "
                    "cannot be checked across a chunked batch"
                )
            key = (kwargs["column"],) if "column" in kwargs else tuple(kwargs["column_list"])
            rules.append((expectation["type"], kwargs, key))
    return rules


def duplicate_keys(parquet: Path, suite_file: Path, settings: Any) -> ValidationReport | None:
    """The suite's uniqueness rules checked over a whole written batch (``parquet``) with
    DuckDB (``duplicated_keys``)."""
    from cxw.duckdb_connection import connect

    with connect(settings=settings) as connection:
        return duplicated_keys(
            connection, "read_parquet(?)", [str(parquet)], suite_file,
            checked="across the whole batch (its chunks together)",
        )


def duplicated_keys(
    connection: Any, relation: str, parameters: list[Any], suite_file: Path, *, checked: str
) -> ValidationReport | None:
    """The suite's uniqueness rules checked over ``relation`` (SQL: a table's quoted name,
    or ``read_parquet(?)`` with ``parameters``) with DuckDB, as GX checks them (nulls are
    not duplicates; ``ignore_row_if`` of a compound key): a failed report naming each
    broken rule, its duplicated rows and a sample of its duplicated keys, or None if every
    key is unique (or the suite has no such rule). ``checked`` says how in the report."""
    rules = uniqueness_rules(suite_file)
    if not rules:
        return None
    failures: list[FailedExpectation] = []
    rows = connection.execute(f"select count(*) from {relation}", parameters)  # noqa: S608
    (total,) = rows.fetchone() or (0,)
    for kind, kwargs, key in rules:
        columns = ", ".join('"' + column.replace('"', '""') + '"' for column in key)
        duplicates = (
            f"select {columns}, count(*) as copies from {relation} "  # noqa: S608
            f"where {_counted(kind, kwargs, key)} group by all having count(*) > 1"
        )
        found = connection.execute(
            f"select count(*), coalesce(sum(copies), 0) from ({duplicates})",  # noqa: S608
            parameters,
        ).fetchone()
        if not found or not found[0]:
            continue
        sample = connection.execute(
            f"{duplicates} order by copies desc, {columns} limit {SAMPLE_ROWS}", parameters
        )
        names = [column[0] for column in sample.description]
        failures.append(
            FailedExpectation(
                expectation=kind,
                kwargs=dict(kwargs),
                unexpected_count=int(found[1]),
                sample=[
                    {name: MASK if _sensitive(name) else value
                     for name, value in zip(names, row, strict=True)}
                    for row in sample.fetchall()
                ],
            )
        )
    if not failures:
        return None
    suite_name = json.loads(suite_file.read_text())["name"]
    raw = {
        "success": False,
        "suite_name": suite_name,
        "checked": checked,
        "row_count": total,
        "results": [
            {"type": f.expectation, "kwargs": f.kwargs, "unexpected_count": f.unexpected_count,
             "duplicated_keys": f.sample}
            for f in failures
        ],
    }
    return ValidationReport(suite_name, False, int(total), failures, raw)


def _counted(kind: str, kwargs: dict[str, Any], key: tuple[str, ...]) -> str:
    """The rows a uniqueness rule looks at, as GX: a single column's non-null values; a
    compound key's rows unless ``ignore_row_if`` leaves them out (default: all missing)."""
    missing = [f'"{column}" is null' for column in (c.replace('"', '""') for c in key)]
    if kind == "expect_column_values_to_be_unique":
        return f"not ({missing[0]})"
    ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
    if ignore == "never":
        return "true"
    joined = " or " if ignore == "any_value_is_missing" else " and "
    return f"not ({joined.join(missing)})"


def suite_parameters(now: datetime) -> dict[str, Any]:
    """Run-time values suites refer to as ``{"$PARAMETER": name}``."""
    return {"latest_plausible_at": pd.Timestamp(now + CLOCK_SKEW)}


# What a validation costs besides checking rows (~0.35 s per batch when each call built
# it): the GX context, the suite and the batch definition. They are built once per
# process and suite file (and again if the file changes), behind one lock: GX's context
# is not thread-safe. A batch runs through GX's validator as ValidationDefinition.run
# does, without what run adds: a freshness check of the stores and a copy of every
# result in the context's in-memory store (~0.1-0.3 s each, and the per-process context
# would keep them all); store_result keeps the result for Data Docs instead.
_GX_LOCK = threading.RLock()
_TABLE_WIDE = "expect_table_column"  # expectations about the set or order of columns


@dataclass
class _Validator:
    batch_definition: Any
    suite: Any
    columns: list[str] | None  # the columns the suite reads; None: every column


@functools.cache
def _gx_batch_definition() -> Any:
    """One ephemeral GX context per process, with a pandas data source whose one batch
    definition takes whatever DataFrame a validation hands it."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        context.data_sources.add_pandas("cxw")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("whole")
    )


_VALIDATORS: dict[Path, tuple[int, _Validator]] = {}


def _validator(suite_file: Path) -> _Validator:
    """The suite's validation definition, built the first time (or when the file changed)."""
    version = suite_file.stat().st_mtime_ns
    cached = _VALIDATORS.get(suite_file)
    if cached and cached[0] == version:
        return cached[1]
    batch_definition = _gx_batch_definition()
    context = batch_definition.data_asset.datasource.data_context
    suite = load_suite(suite_file)
    for name in (suite.name,):
        with contextlib.suppress(Exception):  # a changed file: replace the older suite
            context.suites.delete(name)
    suite = context.suites.add(suite)
    validator = _Validator(batch_definition, suite, _checked_columns(suite))
    _VALIDATORS[suite_file] = (version, validator)
    return validator


def checked_columns(suite_file: Path) -> list[str] | None:
    """The columns the suite in ``suite_file`` reads (None: every column)."""
    with _GX_LOCK:
        return _validator(suite_file).columns


def _checked_columns(suite: Any) -> list[str] | None:
    """The columns a suite's expectations read, or None when one reads the table's columns
    as a whole (their names or order: every column must be there) or has a row condition
    (a pandas query over any column)."""
    columns: list[str] = []
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        if expectation.expectation_type.startswith(_TABLE_WIDE) or kwargs.get("row_condition"):
            return None
        named = [kwargs.get(key) for key in ("column", "column_A", "column_B")]
        named += list(kwargs.get("column_list") or [])
        columns += [name for name in named if isinstance(name, str) and name not in columns]
    return columns


def _handed_over(frame: pd.DataFrame, columns: list[str] | None) -> pd.DataFrame:
    """The frame GX gets: only the checked columns (a selection, not a copy of the
    others), on a 0..n-1 index (GX reports offending rows by position)."""
    if columns is not None and set(columns) <= set(frame.columns):
        frame = frame[columns]
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    return frame


def warm_up() -> int:
    """Build, in this process, what every validation needs before its first batch: Great
    Expectations' import, the context, and the validation definition of every suite in
    ``expectations/`` (landing and marts); return how many. Called by a parent that forks
    task processes (the Airflow scheduler through ``CXW_PREIMPORT=cxw.warm``, the
    benchmark's fork server), so each forked task starts with them built (copy on write)
    instead of paying ~4 CPU s for them in every extract and validation stage."""
    with _GX_LOCK:
        for path in sorted(EXPECTATIONS_DIR.rglob("*.json")):
            _validator(path)
    return len(_VALIDATORS)


# Passing batches are validated with BOOLEAN_ONLY results (each expectation's verdict:
# about half of GX's work per validation, which is computing every expectation's
# unexpected values, indexes and counts for the result); a batch that fails is validated
# once more with COMPLETE results, so its report and its Data Docs page name the
# offending rows and values as before.
_PASSING_FORMAT: dict[str, Any] = {"result_format": "BOOLEAN_ONLY"}
_FAILING_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE", "unexpected_index_column_names": []
}


def _run_suite(validator: _Validator, frame: pd.DataFrame, now: datetime, result_format: dict):
    from great_expectations.validator.v1_validator import Validator

    with _GX_LOCK:
        return Validator(
            batch_definition=validator.batch_definition,
            batch_parameters={"dataframe": frame},
            result_format=result_format,
        ).validate_expectation_suite(validator.suite, suite_parameters(now))


def validate_frame(
    frame: pd.DataFrame,
    suite_file: Path,
    now: datetime,
    *,
    results_store: Path | None = None,
    batch_identifier: str = "batch",
    run_name: str | None = None,
) -> ValidationReport:
    """Validate ``frame`` against the suite stored in ``suite_file``.

    ``now`` is the load time: timestamps later than it (plus clock skew) are rejected.
    With ``results_store`` (a folder), the GX result is also kept there in GX's own
    validation-results-store layout, personal data masked, for ``build_data_docs``;
    ``batch_identifier`` and ``run_name`` name the batch and the run on its Data Docs page.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    with _GX_LOCK:
        validator = _validator(suite_file)
    handed = _handed_over(frame, validator.columns)
    result = _run_suite(validator, handed, now, _PASSING_FORMAT)
    if not result.success:
        result = _run_suite(validator, handed, now, _FAILING_FORMAT)
    run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
    result.meta.update({"run_id": run_id, "validation_time": run_id.run_time})
    suite_name = validator.suite.name
    failures = []
    for item in result.results:
        if item.success:
            continue
        details = item.result or {}
        indexes = details.get("unexpected_index_list") or []
        sample_index = [i for i in indexes[:SAMPLE_ROWS] if isinstance(i, int)]
        sample = _rows(frame.reset_index(drop=True), sample_index)
        failures.append(
            FailedExpectation(
                expectation=item.expectation_config.type,
                kwargs=dict(item.expectation_config.kwargs),
                unexpected_count=details.get("unexpected_count"),
                sample=sample,
            )
        )
    report = ValidationReport(
        suite_name=suite_name,
        success=bool(result.success),
        row_count=len(frame),
        failures=failures,
        raw=result.describe_dict(),
    )
    if results_store is not None:
        store_result(result, results_store, batch_identifier)  # masks ``result`` in place
    return report


def _rows(frame: pd.DataFrame, index: list[int]) -> list[dict[str, Any]]:
    """Offending rows for the error message: without the batch columns and the whole raw
    record, and with personal data (emails) masked, since messages end up in task logs."""
    hidden = [c for c in [*BATCH_COLUMNS, RAW_RECORD] if c in frame.columns]
    rows = frame.iloc[index].drop(columns=hidden)
    for column in rows.columns:
        if _sensitive(column):
            rows[column] = rows[column].where(rows[column].isna(), "<masked>")
    return json.loads(rows.to_json(orient="records", date_format="iso", default_handler=str))


# --- GX Data Docs ----------------------------------------------------------------------
#
# Every validation the pipeline runs is kept as a GX validation result (JSON, GX's own
# ``ValidationResultsStore`` on the filesystem, ``Settings.gx_results_dir``): keeping one
# costs ~13 ms (GX's serialisation) on a ~200 ms validation, where rendering its page
# would cost more and rebuilding the index per batch far more. So ``build_data_docs``
# renders the site once per run (``pipeline.build_reports``) with GX's own SiteBuilder,
# incrementally: pages already rendered are not rendered again (a first build of ~400
# results takes ~7 s, a rebuild with nothing new ~2 s, mostly the index).
#
# GX's page templates load Bootstrap, jQuery, bootstrap-table, Vega and Font Awesome
# from CDNs and the logo from S3. This pipeline runs offline and its reports must open
# offline, and GX does not ship those libraries (only its own CSS, fonts and images), so
# after each build every page is rewritten: CDN <script>/<link> tags are dropped, the
# logo points at GX's bundled copy in the site's static/images/, and a small local
# script (static/scripts/cxw-offline.js, below) renders the index's result tables as
# plain HTML tables, which GX leaves to bootstrap-table.

# Free-text comments can hold an email or a phone number too (sources.md, marts.md).
SENSITIVE_COLUMN_MARKERS = ("email", "comment", RAW_RECORD)
MASK = "<masked>"
OFFLINE_MARKER = "<!-- cxw: offline -->"
_VALUE_LISTS = ("partial_unexpected_list", "unexpected_list", "partial_unexpected_counts")
# Row indexes, or dicts of index-column values when a suite names index columns.
_INDEX_LISTS = ("partial_unexpected_index_list", "unexpected_index_list")


def _sensitive(column: Any) -> bool:
    return isinstance(column, str) and any(m in column.lower() for m in SENSITIVE_COLUMN_MARKERS)


def _mask_value(value: Any, whole: bool) -> Any:
    if isinstance(value, dict):
        return {
            k: (v if k == "count" else MASK if whole or _sensitive(k) else v)
            for k, v in value.items()
        }
    return MASK if whole and value is not None else value


def _mask_result(result: Any) -> None:
    """Mask personal data (email columns, raw records) in a GX result's unexpected values:
    Data Docs are a report people browse, like task logs."""
    for item in result.results:
        kwargs = item.expectation_config.kwargs or {}
        columns = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
        columns += list(kwargs.get("column_list") or [])
        whole = any(_sensitive(column) for column in columns)
        details = item.result or {}
        for names, mask_all in ((_VALUE_LISTS, whole), (_INDEX_LISTS, False)):
            for name in names:
                if isinstance(details.get(name), list):
                    details[name] = [_mask_value(value, mask_all) for value in details[name]]
        if whole and "details" in details:
            details["details"] = {}


def _results_store(directory: Path):
    from great_expectations.data_context.store import ValidationResultsStore

    backend = {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)}
    return ValidationResultsStore(store_backend=backend)


def store_result(result: Any, directory: Path, batch_identifier: str) -> None:
    """Keep one GX validation result in the filesystem results store at ``directory``."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = result.meta.get("run_id")
    if not isinstance(run_id, RunIdentifier):
        run_id = RunIdentifier(run_time=datetime.now(UTC))
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
        run_id=run_id,
        batch_identifier=_safe_name(batch_identifier),
    )
    _mask_result(result)
    _results_store(directory).set(key, result)


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_=" else "_" for c in name) or "batch"


def build_data_docs(results_dir: Path, site_dir: Path) -> Path:
    """Render the GX Data Docs site for every result kept in ``results_dir`` (and a page
    per expectation suite) into ``site_dir``; return its index.html. Pages rendered by an
    earlier build are kept, not rendered again. The site loads nothing from the network."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    results_dir.mkdir(parents=True, exist_ok=True)
    defaults = InMemoryStoreBackendDefaults()
    stores = dict(defaults.stores)
    # The suites as GX stores them, kept beside the site between builds: adding all of
    # them to a fresh in-memory store cost ~0.6 CPU s per build (GX serialises each), and
    # only a new or changed suite needs its page rendered again.
    stores[defaults.expectations_store_name] = {
        "class_name": "ExpectationsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(suites_dir(site_dir)),
        },
    }
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(results_dir),
        },
    }
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(site_dir),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False},
    }
    config = DataContextConfig(
        store_backend_defaults=defaults, stores=stores, data_docs_sites={"cxw": site}
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    store = context.expectations_store
    suites, names = [], set()
    for path in sorted(EXPECTATIONS_DIR.rglob("*.json")):
        key = ExpectationSuiteIdentifier(name=json.loads(path.read_text())["name"])
        names.add(key.name)
        page = _page(site_dir / "expectations", key.to_tuple())
        fresh = page.exists() and page.stat().st_mtime_ns >= path.stat().st_mtime_ns
        if fresh and store.has_key(key):
            continue
        if store.has_key(key):
            context.suites.delete(key.name)
        context.suites.add(load_suite(path))
        suites.append(key)
    removed = [key for key in store.list_keys() if key.name not in names]
    for key in removed:  # a suite file removed: its page leaves the site and the index
        context.suites.delete(key.name)
        _page(site_dir / "expectations", key.to_tuple()).unlink(missing_ok=True)
    fresh = [
        key
        for key in context.validation_results_store.list_keys()
        if not _page(site_dir / "validations", key.to_tuple()).exists()
    ]
    # Only new or changed suites and new results are rendered (GX renders everything
    # when given no identifiers); the index lists every suite and result with a page.
    if suites or fresh or removed or not (site_dir / "index.html").exists():
        context.build_data_docs(site_names=["cxw"], resource_identifiers=[*suites, *fresh])
        _make_offline(site_dir)
    else:
        log.info("GX Data Docs: no new result and no changed suite, nothing rendered")
    return site_dir / "index.html"


def suites_dir(site_dir: Path) -> Path:
    """Where ``build_data_docs`` keeps the suites it rendered, in GX's store layout: a
    hidden folder beside the site (not part of it)."""
    return site_dir.with_name(f".{site_dir.name}-suites")


def _page(section: Path, key: tuple[str, ...]) -> Path:
    """Where GX's site store puts the page of a resource: its key as folders, ``.html``."""
    return section.joinpath(*key[:-1]) / f"{key[-1]}.html"


_CDN_TAG = re.compile(
    r"<(?:script|link)\b[^>]*?\b(?:src|href)=[\"']https?://[^>]*>(?:\s*</script>)?",
    re.IGNORECASE,
)
_GX_ASSETS = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(?:\?[^\"']*)?"
)

_OFFLINE_JS = """\
/* cxw: what Data Docs pages need of jQuery and bootstrap-table, without a network.
   GX's templates call $(...).bootstrapTable({columns, data}) for their index tables;
   this renders them as plain tables (rows linking to their page). Other jQuery calls
   (modals, fades) do nothing. */
(function () {
  function render(table, options) {
    var columns = options.columns || [], data = options.data || [];
    var head = document.createElement("thead"), row = document.createElement("tr");
    columns.forEach(function (c) {
      var th = document.createElement("th");
      th.textContent = c.title || c.field;
      row.appendChild(th);
    });
    head.appendChild(row);
    var body = document.createElement("tbody");
    data.forEach(function (item) {
      var tr = document.createElement("tr");
      if (item._table_row_link_path) {
        tr.style.cursor = "pointer";
        tr.onclick = function () { window.location = item._table_row_link_path; };
      }
      columns.forEach(function (c) {
        var td = document.createElement("td");
        td.innerHTML = item[c.field] == null ? "" : item[c.field];
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.innerHTML = ""; table.appendChild(head); table.appendChild(body);
    table.classList.add("table", "cxw-table");
  }
  function wrap(nodes) {
    var api = {
      bootstrapTable: function (options) {
        if (typeof options === "object") nodes.forEach(function (n) { render(n, options); });
        return api;
      },
      prepend: function (html) {
        nodes.forEach(function (n) { n.insertAdjacentHTML("afterbegin", html); }); return api;
      },
      ready: function (fn) {
        if (document.readyState !== "loading") fn();
        else document.addEventListener("DOMContentLoaded", fn);
        return api;
      },
      each: function (fn) { nodes.forEach(function (n, i) { fn(i, n); }); return api; },
      parent: function () {
        return wrap(nodes.map(function (n) { return n.parentNode; }).filter(Boolean));
      },
      attr: function () { return nodes.length ? nodes[0].getAttribute(arguments[0]) : undefined; },
      fadeIn: function () { nodes.forEach(function (n) { n.style.display = ""; }); return api; },
      fadeOut: function () {
        nodes.forEach(function (n) { n.style.display = "none"; }); return api;
      }
    };
    var noop = function () { return api; };
    return new Proxy(api, { get: function (t, k) { return k in t ? t[k] : noop; } });
  }
  window.$ = window.jQuery = function (target) {
    if (typeof target === "function") return wrap([]).ready(target);
    if (target === document || target === window) return wrap([]);
    if (typeof target === "string") {
      try { return wrap(Array.prototype.slice.call(document.querySelectorAll(target))); }
      catch (e) { return wrap([]); }
    }
    return wrap(target ? [target] : []);
  };
  window.vegaEmbed = function () { return Promise.resolve(); };
})();
"""

_OFFLINE_CSS = """\
/* cxw: a little layout in place of Bootstrap (not loaded: offline). */
body { font-family: system-ui, sans-serif; margin: 0; }
.container-fluid { padding: 1rem 2rem; }
table.cxw-table, table.table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
table.cxw-table th, table.cxw-table td, table.table th, table.table td {
  border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
table.cxw-table tbody tr:hover { background: #f3f6fa; }
.d-none, .invisible, .modal { display: none; }
.navbar img { height: 40px; }
/* Font Awesome (not loaded) icons GX uses, as plain glyphs. */
.fa-check-circle::before { content: "\\2714"; color: #28a745; }
.fa-times::before { content: "\\2716"; color: #dc3545; }
.fa-exclamation-triangle::before { content: "\\26A0"; color: #d39e00; }
.fa-question-circle::before { content: "?"; }
.fa-comment::before { content: "\\1F4AC"; }
"""


def _make_offline(site_dir: Path) -> None:
    """Rewrite the site's pages (and GX's stylesheet copy) so they load nothing from the
    network (see above)."""
    static_dir = site_dir / "static"
    (static_dir / "scripts").mkdir(parents=True, exist_ok=True)
    (static_dir / "scripts" / "cxw-offline.js").write_text(_OFFLINE_JS)
    (static_dir / "styles" / "cxw-offline.css").write_text(_OFFLINE_CSS)
    bundled = {path.name for path in (static_dir / "images").iterdir()}

    def local_assets(text: str, static: str) -> str:
        # GX's images from its S3 bucket, as the copies it bundles (its dark-mode logo is
        # not bundled: the light one stands in).
        return _GX_ASSETS.sub(
            lambda m: f"{static}/images/"
            + (m.group(1) if m.group(1) in bundled else "logo-long.png"),
            text,
        )

    css = static_dir / "styles" / "data_docs_default_styles.css"
    if css.exists():
        css.write_text(local_assets(css.read_text(encoding="utf-8"), ".."), encoding="utf-8")
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if OFFLINE_MARKER in html:
            continue
        static = Path(os.path.relpath(static_dir, page.parent)).as_posix()
        html = local_assets(_CDN_TAG.sub("", html), static)
        local = (
            f'{OFFLINE_MARKER}\n<link rel="stylesheet" href="{static}/styles/cxw-offline.css">\n'
            f'<script src="{static}/scripts/cxw-offline.js"></script>\n'
        )
        html = html.replace("<head>", "<head>\n" + local, 1)
        page.write_text(html, encoding="utf-8")

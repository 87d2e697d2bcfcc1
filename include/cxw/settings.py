"""Where the pipeline keeps its data, read from the environment (never from code).

Every path the pipeline writes hangs off ``CXW_HOME``; the source locations are the
settings named in the source contracts (``CXW_WEB_EXPORT_PATH``, ``CXW_SURVEY_DROP_PATH``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from cxw.errors import PermanentError

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
DEFAULT_HOME = PROJECT_DIR / ".cxw"
# Sized for a laptop: DuckDB's own default is 80% of the machine's memory. With 1GB every
# stage of the 50,000-customer year stays under 2 GiB (dbt's process peaked at 1.5 GiB;
# with 2GB at 2.5 GiB), for a full build ~1.2x slower there, where it spills.
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
DEFAULT_DUCKDB_THREADS = os.cpu_count() or 1
# DuckDB's memory sizes: a number and a unit (``2GB``, ``1.5GiB``, ``512MB``).
MEMORY_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|B|bytes)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    home: Path
    web_export_path: str | None
    survey_drop_path: str | None
    email_salt: str
    # Bounds of one helpdesk sync (per entity): pages, wall-clock seconds, and the
    # (connect, read) timeout of each request.
    helpdesk_max_pages: int = 10_000
    helpdesk_sync_deadline_seconds: float = 1800.0
    helpdesk_request_timeout_seconds: float = 60.0
    # How long after its day ends the latest GA4 export may be late before the day is
    # taken as having no traffic (until then the run waits and retries).
    web_late_deadline_hours: float = 12.0
    # GA4 events read, validated and landed at a time: a day of any size lands in
    # bounded memory (a bigger day is landed chunk by chunk, one row group each).
    web_chunk_events: int = 200_000
    # Orders-database rows read, validated and landed at a time: a table's window bigger
    # than this is landed chunk by chunk (one row group each), in bounded memory.
    orders_chunk_rows: int = 100_000
    # Helpdesk records (tickets, users, audits) read, validated and landed at a time: a
    # longer export (a first sync, a backfill) lands chunk by chunk, in bounded memory.
    helpdesk_chunk_records: int = 20_000
    # Mart rows validated at a time: a bigger mart is validated chunk by chunk (its keys'
    # uniqueness once more over the whole table, in DuckDB), in bounded memory.
    mart_validation_chunk_rows: int = 500_000
    # What every DuckDB connection (and dbt's) may use: past the memory limit DuckDB
    # spills to the temporary directory instead of growing (None: ``<home>/duckdb-tmp``).
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = DEFAULT_DUCKDB_THREADS
    duckdb_temp_directory: Path | None = None

    @classmethod
    def from_env(cls, *, lenient: bool = False) -> Settings:
        """The settings from the environment; an unusable number raises ``SettingError``
        unless ``lenient`` (``cxw check``, which reports it), which takes its default."""
        number = _lenient_number if lenient else _number
        home = Path(os.environ.get("CXW_HOME") or DEFAULT_HOME).expanduser().resolve()
        return cls(
            home=home,
            web_export_path=os.environ.get("CXW_WEB_EXPORT_PATH") or None,
            survey_drop_path=os.environ.get("CXW_SURVEY_DROP_PATH") or None,
            email_salt=os.environ.get("CXW_EMAIL_SALT", ""),
            helpdesk_max_pages=int(number("CXW_HELPDESK_MAX_PAGES", 10_000)),
            helpdesk_sync_deadline_seconds=number("CXW_HELPDESK_SYNC_DEADLINE_SECONDS", 1800),
            helpdesk_request_timeout_seconds=number("CXW_HELPDESK_REQUEST_TIMEOUT_SECONDS", 60),
            web_late_deadline_hours=number("CXW_WEB_LATE_DEADLINE_HOURS", 12),
            web_chunk_events=int(number("CXW_WEB_CHUNK_EVENTS", 200_000)),
            orders_chunk_rows=int(number("CXW_ORDERS_CHUNK_ROWS", 100_000)),
            helpdesk_chunk_records=int(number("CXW_HELPDESK_CHUNK_RECORDS", 20_000)),
            mart_validation_chunk_rows=int(number("CXW_MART_VALIDATION_CHUNK_ROWS", 500_000)),
            duckdb_memory_limit=_memory_limit(lenient=lenient),
            duckdb_threads=max(1, int(number("CXW_DUCKDB_THREADS", DEFAULT_DUCKDB_THREADS))),
            duckdb_temp_directory=_path("CXW_DUCKDB_TEMP_DIRECTORY"),
        )

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills what does not fit in its memory limit."""
        return self.duckdb_temp_directory or self.home / "duckdb-tmp"

    def duckdb_config(self) -> dict[str, str | int]:
        """The DuckDB settings every connection opens with (``cxw.duckdb_connection``)."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": self.duckdb_threads,
            "temp_directory": str(self.duckdb_temp_dir),
        }

    def duckdb_environment(self) -> dict[str, str]:
        """The same settings as the environment the dbt profile reads (``profiles.yml``);
        creates the temporary directory (DuckDB creates only its last level)."""
        self.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
        return {
            "CXW_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "CXW_DUCKDB_THREADS": str(self.duckdb_threads),
            "CXW_DUCKDB_TEMP_DIRECTORY": str(self.duckdb_temp_dir),
        }

    @property
    def lake_dir(self) -> Path:
        """Raw landed batches, one folder per source and entity."""
        return self.home / "lake" / "raw"

    @property
    def quarantine_dir(self) -> Path:
        """Batches that failed validation, kept with their validation result."""
        return self.home / "lake" / "quarantine"

    @property
    def state_dir(self) -> Path:
        """Durable sync state: cursors, watermarks, loaded files."""
        return self.home / "state"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file dbt builds (one writer at a time)."""
        return self.home / "warehouse" / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        """The copy BI tools open read-only, replaced atomically after a validated build."""
        return self.home / "published" / "warehouse.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def gx_results_dir(self) -> Path:
        """Every GX validation result (landing batches and marts), in GX's store layout;
        beside the mart results (``reports/validation/marts``)."""
        return self.reports_dir / "validation" / "gx"

    @property
    def gx_data_docs_dir(self) -> Path:
        """The GX Data Docs site rendered from ``gx_results_dir`` (opens offline)."""
        return self.reports_dir / "gx-data-docs"


#: The numeric settings and their defaults (``cxw check`` validates each).
NUMBER_SETTINGS = {
    "CXW_HELPDESK_MAX_PAGES": 10_000,
    "CXW_HELPDESK_SYNC_DEADLINE_SECONDS": 1800,
    "CXW_HELPDESK_REQUEST_TIMEOUT_SECONDS": 60,
    "CXW_WEB_LATE_DEADLINE_HOURS": 12,
    "CXW_WEB_CHUNK_EVENTS": 200_000,
    "CXW_ORDERS_CHUNK_ROWS": 100_000,
    "CXW_HELPDESK_CHUNK_RECORDS": 20_000,
    "CXW_MART_VALIDATION_CHUNK_ROWS": 500_000,
    "CXW_DUCKDB_THREADS": DEFAULT_DUCKDB_THREADS,
}


class SettingError(PermanentError, ValueError):
    """A setting's value cannot be used; the message names the setting."""


def _number(name: str, default: float) -> float:
    text = os.environ.get(name) or ""
    if not text:
        return float(default)
    try:
        value = float(text)
    except ValueError:
        raise SettingError(f"{name}={text!r} is not a number") from None
    if value <= 0:
        raise SettingError(f"{name}={text!r} must be greater than 0")
    return value


def _lenient_number(name: str, default: float) -> float:
    try:
        return _number(name, default)
    except SettingError:
        return float(default)


def _memory_limit(*, lenient: bool) -> str:
    text = (os.environ.get("CXW_DUCKDB_MEMORY_LIMIT") or "").strip()
    if not text:
        return DEFAULT_DUCKDB_MEMORY_LIMIT
    if not MEMORY_SIZE.match(text):
        if lenient:
            return DEFAULT_DUCKDB_MEMORY_LIMIT
        raise SettingError(
            f"CXW_DUCKDB_MEMORY_LIMIT={text!r} is not a memory size (e.g. 2GB, 512MB)"
        )
    return text


def _path(name: str) -> Path | None:
    text = os.environ.get(name) or ""
    return Path(text).expanduser().resolve() if text else None

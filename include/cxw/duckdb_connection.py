"""Every DuckDB connection the product opens, with the settings' limits.

DuckDB's own defaults (80% of the machine's memory, every core, spilling beside the
database file) let one big build take the machine; here each connection gets the
settings' ``memory_limit``, ``threads`` and ``temp_directory`` (``CXW_DUCKDB_*``), so
a build larger than the limit spills to disk instead of growing. dbt's connections get
the same values through the profile (``dbt_project/profiles.yml``).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import duckdb

from cxw.settings import Settings


def connect(
    database: str | Path = ":memory:",
    *,
    read_only: bool = False,
    settings: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open ``database`` (in memory by default) with the settings' DuckDB limits
    (``Settings.from_env()`` unless given)."""
    settings = settings or Settings.from_env()
    # DuckDB creates only the last level, when it first spills; a reader on a read-only
    # home still opens (it fails only if it has to spill).
    with suppress(OSError):
        settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(database), read_only=read_only, config=settings.duckdb_config())

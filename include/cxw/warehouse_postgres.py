"""The marts on PostgreSQL: the landed lake loaded into raw tables, then ``dbt build``.

dbt-postgres cannot read Parquet, so every landed lake table (all its batches, unioned by
column name exactly as the DuckDB build reads them) is copied into the table
``<prefix>raw_<source>.<table>``, which the dbt sources resolve to on a ``postgres``
target. Columns keep their names and types, the batch columns (``_batch_id``,
``_loaded_at``, ``_record``, ...) included; GA4's nested columns (``event_params``,
``device``, ``geo``, ...) become ``jsonb``. Each run reloads the raw tables whole, in one
transaction, so dbt never sees a half-loaded lake.

The connection comes from the environment (``CXW_PG_HOST``, ``CXW_PG_PORT``,
``CXW_PG_USER``, ``CXW_PG_PASSWORD``, ``CXW_PG_DATABASE``, ``CXW_PG_SCHEMA``,
``CXW_PG_SCHEMA_PREFIX``), the same settings ``dbt_project/profiles.yml`` reads.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection

from cxw import comment_sentiment, duckdb_connection
from cxw.settings import Settings
from cxw.warehouse import as_of_environment, build_arguments, declared_sources, run_dbt

log = logging.getLogger(__name__)

# DuckDB column types (as DESCRIBE spells them) and their PostgreSQL equivalents (as
# format_type spells them, to compare with a loaded table's); nested types (STRUCT,
# lists, MAP) become jsonb, anything else not listed is loaded as text.
SCALAR_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time without time zone",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP_MS": "timestamp without time zone",
    "TIMESTAMP_NS": "timestamp without time zone",
    "TIMESTAMP_S": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
}
NESTED = re.compile(r"^(STRUCT|MAP|UNION)\(|\[\d*\]$")
DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
BUILD_TARGET_DIR = "target-postgres"
# How the CSV between DuckDB and COPY spells null (an empty field is an empty string).
NULL_TEXT = "\\N"


@dataclass(frozen=True)
class PostgresWarehouse:
    """Where the marts are built: a PostgreSQL database, the schema of models without a
    custom schema, and the prefix of every schema the build creates (raw and marts)."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "cxw"
    schema: str = "public"
    schema_prefix: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PostgresWarehouse:
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("CXW_PG_HOST") or cls.host,
            port=int(env.get("CXW_PG_PORT") or cls.port),
            user=env.get("CXW_PG_USER") or cls.user,
            password=env.get("CXW_PG_PASSWORD", cls.password),
            database=env.get("CXW_PG_DATABASE") or cls.database,
            schema=env.get("CXW_PG_SCHEMA") or cls.schema,
            schema_prefix=env.get("CXW_PG_SCHEMA_PREFIX", cls.schema_prefix),
        )

    def connect(self) -> PgConnection:
        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=self.database,
            connect_timeout=10,
            options="-c TimeZone=UTC",
        )

    def dbt_env(self) -> dict[str, str]:
        """The environment that points dbt's ``postgres`` output (profiles.yml) here."""
        return {
            "CXW_DBT_TARGET": "postgres",
            "CXW_PG_HOST": self.host,
            "CXW_PG_PORT": str(self.port),
            "CXW_PG_USER": self.user,
            "CXW_PG_PASSWORD": self.password,
            "CXW_PG_DATABASE": self.database,
            "CXW_PG_SCHEMA": self.schema,
            "CXW_PG_SCHEMA_PREFIX": self.schema_prefix,
            # libpq sends it as the session's TimeZone: the models compare the raw
            # timestamptz columns with UTC literals.
            "PGTZ": "UTC",
        }

    def raw_schema(self, source: str) -> str:
        """The schema of a source's raw tables (as the dbt sources resolve it)."""
        return f"{self.schema_prefix}raw_{source}"


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one: nested types become jsonb."""
    if NESTED.search(duckdb_type):
        return "jsonb"
    if decimal := DECIMAL.match(duckdb_type):
        return f"numeric({decimal[1]},{decimal[2]})"
    return SCALAR_TYPES.get(duckdb_type, "text")


def landed_files(settings: Settings, source: str, table: str) -> list[str]:
    return sorted(str(path) for path in (settings.lake_dir / source / table).glob("*.parquet"))


def _load_table(
    duck: duckdb.DuckDBPyConnection,
    pg: PgConnection,
    files: list[str],
    schema: str,
    table: str,
    scratch: Path,
) -> int:
    """Replace ``schema.table`` with the rows of ``files``; returns the rows loaded."""
    relation = duck.sql(
        "select * from read_parquet($files, union_by_name = true)", params={"files": files}
    )
    columns = [
        (name, postgres_type(str(kind)))
        for name, kind in zip(relation.columns, relation.types, strict=True)
    ]
    # DuckDB writes the CSV (its own text forms round-trip: shortest exact doubles,
    # timestamps with their UTC offset); nested values as JSON.
    selected = relation.select(
        *[
            duckdb.FunctionExpression("to_json", duckdb.ColumnExpression(name)).alias(name)
            if kind == "jsonb"
            else duckdb.ColumnExpression(name)
            for name, kind in columns
        ]
    )
    csv_path = scratch / f"{schema}.{table}.csv"
    selected.write_csv(str(csv_path), header=False, na_rep=NULL_TEXT)
    target = sql.Identifier(schema, table)
    with pg.cursor() as cursor:
        cursor.execute(
            "select attribute.attname, format_type(attribute.atttypid, attribute.atttypmod)"
            " from pg_attribute as attribute"
            " where attribute.attrelid = to_regclass(%s) and attribute.attnum > 0"
            " and not attribute.attisdropped order by attribute.attnum",
            [target.as_string(pg)],
        )
        if cursor.fetchall() == columns:
            # Same columns: empty it in place, so the staging views over it stay.
            cursor.execute(sql.SQL("truncate table {}").format(target))
        else:
            # New or changed columns: the views over it go too; dbt build recreates them.
            cursor.execute(sql.SQL("drop table if exists {} cascade").format(target))
            cursor.execute(
                sql.SQL("create table {} ({})").format(
                    target,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                        for name, kind in columns
                    ),
                )
            )
        with open(csv_path, encoding="utf-8") as rows:
            cursor.copy_expert(
                sql.SQL("copy {} ({}) from stdin with (format csv, null {})").format(
                    target,
                    sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns),
                    sql.Literal(NULL_TEXT),
                ),
                rows,
            )
        return cursor.rowcount


def load_raw(settings: Settings, warehouse: PostgresWarehouse) -> dict[str, int]:
    """Load every landed lake table into its raw table (replacing it), all in one
    transaction; returns the rows per ``source.table``. Declared sources with no batch
    yet get no table (the build leaves out what depends on them, as on DuckDB)."""
    loaded: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="cxw-pg-load-") as scratch,
        duckdb_connection.connect(settings=settings) as duck,
        _transaction(warehouse) as pg,
    ):
        duck.execute("set TimeZone = 'UTC'")
        for source, table in declared_sources():
            files = landed_files(settings, source, table)
            if not files:
                continue
            schema = warehouse.raw_schema(source)
            with pg.cursor() as cursor:
                cursor.execute(
                    sql.SQL("create schema if not exists {}").format(sql.Identifier(schema))
                )
            loaded[f"{source}.{table}"] = _load_table(duck, pg, files, schema, table, Path(scratch))
    log.info("loaded the lake into PostgreSQL %s: %s", warehouse.database, json.dumps(loaded))
    return loaded


@contextmanager
def _transaction(warehouse: PostgresWarehouse) -> Iterator[PgConnection]:
    connection = warehouse.connect()
    try:
        with connection:  # commits on success, rolls back on an exception
            yield connection
    finally:
        connection.close()


def build_on_postgres(
    settings: Settings, as_of: date, warehouse: PostgresWarehouse | None = None
) -> str:
    """Load the lake into PostgreSQL, then ``dbt build`` the project there as of the run's
    data date (the same selection as the DuckDB build); returns dbt's output."""
    warehouse = warehouse or PostgresWarehouse.from_env()
    comment_sentiment.score_comments(settings)
    load_raw(settings, warehouse)
    return run_dbt(
        settings,
        *build_arguments(settings),
        env={**warehouse.dbt_env(), **as_of_environment(as_of)},
        target_dir=BUILD_TARGET_DIR,
    )


def drop_schemas(warehouse: PostgresWarehouse) -> list[str]:
    """Drop every schema a prefixed build created (raw and models); returns their names.
    Refuses an empty prefix, which would name every schema of the database."""
    if not warehouse.schema_prefix:
        raise ValueError("drop_schemas needs a schema prefix")
    with _transaction(warehouse) as pg, pg.cursor() as cursor:
        cursor.execute(
            "select nspname from pg_namespace where starts_with(nspname, %s) order by 1",
            [warehouse.schema_prefix],
        )
        schemas = [name for (name,) in cursor.fetchall()]
        for schema in schemas:
            cursor.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    return schemas


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cxw.warehouse_postgres --as-of 2026-10-31``."""
    parser = argparse.ArgumentParser(
        prog="python -m cxw.warehouse_postgres",
        description="Load the lake of CXW_HOME into PostgreSQL (the CXW_PG_* settings) "
        "and build the marts there.",
    )
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="the data date")
    parser.add_argument("--load-only", action="store_true", help="load the raw tables, no dbt")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    if arguments.load_only:
        load_raw(settings, PostgresWarehouse.from_env())
    else:
        print(build_on_postgres(settings, arguments.as_of))
    return 0


if __name__ == "__main__":
    sys.exit(main())

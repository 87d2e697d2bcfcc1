"""The PostgreSQL loader's pure parts: column types, settings, the dbt environment."""

from __future__ import annotations

import pytest

from cxw.warehouse_postgres import PostgresWarehouse, drop_schemas, postgres_type


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("BIGINT", "bigint"),
        ("VARCHAR", "text"),
        ("DOUBLE", "double precision"),
        ("BOOLEAN", "boolean"),
        ("TIMESTAMP", "timestamp without time zone"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone"),
        ("DECIMAL(18,2)", "numeric(18,2)"),
        ('STRUCT(category VARCHAR, "language" VARCHAR)', "jsonb"),
        ('STRUCT("key" VARCHAR, "value" STRUCT(int_value BIGINT))[]', "jsonb"),
        ("VARCHAR[]", "jsonb"),
        ("MAP(VARCHAR, BIGINT)", "jsonb"),
        ("BIT", "text"),
    ],
)
def test_duckdb_types_map_to_postgres_nested_ones_to_jsonb(duckdb_type: str, expected: str) -> None:
    assert postgres_type(duckdb_type) == expected


def test_settings_come_from_the_environment_with_local_defaults() -> None:
    assert PostgresWarehouse.from_env({}) == PostgresWarehouse(
        host="127.0.0.1", port=5432, user="postgres", password="", database="cxw"
    )
    warehouse = PostgresWarehouse.from_env(
        {
            "CXW_PG_HOST": "db",
            "CXW_PG_PORT": "6543",
            "CXW_PG_PASSWORD": "secret",
            "CXW_PG_DATABASE": "shop",
            "CXW_PG_SCHEMA_PREFIX": "ci_",
        }
    )
    assert (warehouse.host, warehouse.port, warehouse.database) == ("db", 6543, "shop")
    assert warehouse.raw_schema("web") == "ci_raw_web"
    env = warehouse.dbt_env()
    assert env["CXW_DBT_TARGET"] == "postgres"
    assert env["CXW_PG_PORT"] == "6543"
    assert env["CXW_PG_SCHEMA_PREFIX"] == "ci_"
    assert env["PGTZ"] == "UTC"


def test_dropping_schemas_needs_a_prefix() -> None:
    with pytest.raises(ValueError, match="prefix"):
        drop_schemas(PostgresWarehouse())

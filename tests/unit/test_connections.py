"""Airflow connections as the SQLAlchemy URLs the orders extract opens."""

from __future__ import annotations

from cxw.connections import sqlalchemy_url


def test_sqlalchemy_url_from_airflow_connection_parts() -> None:
    assert sqlalchemy_url("sqlite", "", "/data/shop.db", "ignored") == "sqlite:////data/shop.db"
    assert (
        sqlalchemy_url("postgres", "db", "shop", "postgres://ro:pw@db:5432/shop")
        == "postgresql://ro:pw@db:5432/shop"
    )

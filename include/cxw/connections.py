"""Source connections, resolved from Airflow connections (or ``AIRFLOW_CONN_*`` env vars).

Secrets stay inside the connection objects: nothing here logs a URL or a password.
"""

from __future__ import annotations

import os

ORDERS_DB_CONN_ID = "orders_db"


def sqlalchemy_url(conn_type: str, host: str | None, schema: str | None, uri: str) -> str:
    """The SQLAlchemy URL for an Airflow connection.

    Airflow parses ``sqlite:////data/shop.db`` into an empty host and the path as schema
    (or host, depending on the form); SQLAlchemy wants ``sqlite:////data/shop.db``.
    """
    if conn_type == "sqlite":
        path = host or schema or ""
        return f"sqlite:///{path}"
    if conn_type in ("postgres", "postgresql"):
        return "postgresql" + uri[uri.index(":"):]
    return uri


def orders_db_url() -> str:
    """The orders database URL from the ``orders_db`` Airflow connection."""
    try:
        from airflow.sdk import Connection

        conn = Connection.get(ORDERS_DB_CONN_ID)
    except ImportError:  # pragma: no cover - Airflow is always installed with cxw
        return os.environ["AIRFLOW_CONN_ORDERS_DB"]
    return sqlalchemy_url(conn.conn_type, conn.host, conn.schema, conn.get_uri())

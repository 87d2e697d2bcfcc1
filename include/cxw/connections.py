"""Source connections, resolved from Airflow connections (or ``AIRFLOW_CONN_*`` env vars).

Secrets stay inside the connection objects: nothing here logs a URL or a password.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from cxw.sources.helpdesk import HelpdeskConfig

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


HELPDESK_CONN_ID = "helpdesk_api"


def helpdesk_base_url(
    conn_type: str | None, host: str, port: int | None, schema: str | None
) -> str:
    """The helpdesk's base URL from a connection's parts.

    The scheme is the connection's ``schema`` when it says http/https (the JSON form),
    else its type when that is http/https (the URI form ``http://...``), else https; a
    host that already carries a scheme (``https://shop.zendesk.com``) is taken as is.
    """
    if "://" in host:
        base = host
    else:
        scheme = next(
            (s for s in (schema, conn_type) if s and s.lower() in ("http", "https")), "https"
        )
        base = f"{scheme.lower()}://{host}"
    base = base.rstrip("/")
    if port and urlsplit(base).port is None:
        base = f"{base}:{port}"
    return base


def helpdesk_config() -> HelpdeskConfig:
    """Base URL, agent email, API token and order field id from the ``helpdesk_api``
    Airflow connection (login = agent email, password = API token, extra
    ``order_field_id``)."""
    from airflow.sdk import Connection

    conn = Connection.get(HELPDESK_CONN_ID)
    if not conn.host or not conn.login or not conn.password:
        # Names what is missing, never what is there: the password is a secret.
        missing = [name for name in ("host", "login", "password") if not getattr(conn, name)]
        raise ValueError(f"connection {HELPDESK_CONN_ID!r} lacks {', '.join(missing)}")
    field_id = (conn.extra_dejson or {}).get("order_field_id")
    return HelpdeskConfig(
        base_url=helpdesk_base_url(conn.conn_type, conn.host, conn.port, conn.schema),
        email=conn.login,
        token=conn.password,
        order_field_id=int(field_id) if field_id not in (None, "") else None,
    )

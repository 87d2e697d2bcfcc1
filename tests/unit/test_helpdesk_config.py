"""The helpdesk settings come from the ``helpdesk_api`` Airflow connection (URI or JSON)."""

from __future__ import annotations

import json

import pytest

from cxw.connections import helpdesk_base_url, helpdesk_config

TOKEN = "s3cret-token/with+chars"


def test_config_from_a_connection_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HELPDESK_API",
        "http://agent%40shop.example:s3cret-token%2Fwith%2Bchars@127.0.0.1:8765"
        "?order_field_id=360000000001",
    )
    config = helpdesk_config()
    assert (config.base_url, config.email, config.token, config.order_field_id) == (
        "http://127.0.0.1:8765", "agent@shop.example", TOKEN, 360000000001
    )
    assert TOKEN not in repr(config)


def test_config_from_connection_json(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "http", "host": "shop.zendesk.com", "schema": "https",
            "login": "agent@shop.example", "password": TOKEN, "extra": {}}
    monkeypatch.setenv("AIRFLOW_CONN_HELPDESK_API", json.dumps(conn))
    config = helpdesk_config()
    assert (config.base_url, config.order_field_id) == ("https://shop.zendesk.com", None)


def test_missing_credentials_are_named_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "http", "host": "shop.zendesk.com", "password": TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_HELPDESK_API", json.dumps(conn))
    with pytest.raises(ValueError, match="lacks login") as error:
        helpdesk_config()
    assert TOKEN not in str(error.value)


@pytest.mark.parametrize(
    ("parts", "url"),
    [
        (("http", "127.0.0.1", 8765, ""), "http://127.0.0.1:8765"),
        (("http", "shop.zendesk.com", None, "https"), "https://shop.zendesk.com"),
        (("generic", "shop.zendesk.com", None, None), "https://shop.zendesk.com"),
        (("http", "https://shop.zendesk.com/", None, None), "https://shop.zendesk.com"),
    ],
)
def test_base_url_from_connection_parts(parts: tuple, url: str) -> None:
    assert helpdesk_base_url(*parts) == url

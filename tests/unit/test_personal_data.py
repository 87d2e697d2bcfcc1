"""The personal-data scan finds what it must and leaves identifiers alone."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cxw.personal_data import personal_data_in, scan_warehouse


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Please email me at Ana.Lopez@example.com", "email"),
        ("Call me: +49 30 1234 5678", "phone"),
        ("appelez le 06 12 34 56 78 !", "phone"),
        ("Reach me on (555) 010-4477.", "phone"),
        ("Call me: [phone] or mail [email]", None),
        ("order #10234 was late", None),  # 5 digits: no phone
        ("1234567890.1700000000", None),  # a GA4 pseudo id: one token, no phone
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", None),
    ],
)
def test_what_counts_as_raw_personal_data(value: str, kind: str | None) -> None:
    assert personal_data_in(value) == kind


def test_every_relation_and_list_column_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema experience")
        connection.execute(
            "create table experience.clean as select 'Late [phone]' as comment, 1 as id"
        )
        connection.execute(
            "create table experience.leaky as select ['ok', 'mail bo@x.example'] as themes"
        )
        connection.execute(
            "create view experience.leaky_view as select 'ring +1 555 010 4477' as note"
        )
        connection.execute("create schema staging")
        connection.execute("create table staging.users as select 'a@b.example' as email")
    found = {(f.relation, f.column, f.kind) for f in scan_warehouse(path)}
    assert found == {
        ("experience.leaky", "themes", "email"),
        ("experience.leaky_view", "note", "phone"),
        ("staging.users", "email", "email"),
    }
    only_marts = scan_warehouse(path, ["experience"])
    assert {f.relation for f in only_marts} == {"experience.leaky", "experience.leaky_view"}
    assert "555" not in only_marts[0].describe() + only_marts[1].describe()

"""Find raw emails and phone numbers in a DuckDB warehouse, relation by relation.

The check behind the rule "no raw email or phone number in anything a BI user reads"
(marts.md, "Definitions that hold everywhere"). It is deliberately written apart from the
dbt macro that masks free text (``redact_free_text``): a check that reused the masking
patterns could not catch a mistake in them.

- email: something@domain.tld anywhere in a text value.
- phone: 7 or more digits joined only by ``+ ( ) - .`` or spaces, in a value that is
  text rather than an identifier, i.e. one holding a space or a ``+``/``(``: keys, hashes
  and GA4 pseudo ids are single tokens of digits and dots and would otherwise look like
  phone numbers.
Text columns and lists of text are read; other types cannot hold either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cxw import duckdb_connection

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+?\(?\d(?:[\s().+-]*\d){6,}")
FREE_TEXT = re.compile(r"[\s+(]")


@dataclass(frozen=True)
class Finding:
    relation: str
    column: str
    kind: str
    example: str

    def describe(self) -> str:
        # The value itself would repeat the personal data in a log: show its shape only.
        shape = re.sub(r"[A-Za-z]", "a", re.sub(r"\d", "9", self.example))
        return f"{self.relation}.{self.column}: raw {self.kind} ({shape})"


def personal_data_in(value: str) -> str | None:
    """``email`` or ``phone`` when the text holds one raw, else None."""
    if EMAIL.search(value):
        return "email"
    if FREE_TEXT.search(value) and PHONE.search(value):
        return "phone"
    return None


def scan_warehouse(path: Path, schemas: Iterable[str] | None = None) -> list[Finding]:
    """Every relation (table or view) of the DuckDB file at ``path``, in ``schemas`` (all
    when None): the first raw email or phone number per column, if any."""
    findings: list[Finding] = []
    with duckdb_connection.connect(path, read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns "
            "where data_type in ('VARCHAR', 'VARCHAR[]') "
            "and table_schema not in ('information_schema', 'pg_catalog') "
            "order by 1, 2, 3"
        ).fetchall()
        wanted = None if schemas is None else set(schemas)
        for schema, table, column, data_type in columns:
            if wanted is not None and schema not in wanted:
                continue
            text = f'"{column}"'
            if data_type != "VARCHAR":
                text = f"array_to_string({text}, ' | ')"
            values = connection.execute(
                f'select distinct {text} from "{schema}"."{table}" '  # noqa: S608 - catalog names
                f"where {text} is not null"
            ).fetchall()
            for (value,) in values:
                kind = personal_data_in(value)
                if kind:
                    findings.append(Finding(f"{schema}.{table}", column, kind, value))
                    break
    return findings

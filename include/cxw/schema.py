"""Typing of extracted records before validation.

Sources send text (SQLite, CSV, JSON) or typed values (PostgreSQL); the raw layer stores
one type per column whatever the source. Values that do not parse are not silently
nulled: they are described in a ``_parse_errors`` column, which every suite expects to
be null, so Great Expectations reports the record and its bad value.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

PARSE_ERRORS = "_parse_errors"

KINDS = ("int", "str", "bool", "timestamp", "date", "money", "float")


def _parse(series: pd.Series, kind: str) -> pd.Series:
    if kind == "int":
        numbers = pd.to_numeric(series, errors="coerce")
        # A fractional value ("7.5") or one past int64 ("1e30") is not an int: leave it
        # unparsed so _parse_errors names it, instead of astype failing the whole batch.
        whole = (numbers.mod(1) == 0) & (numbers.abs() < 2**63)
        return numbers.where(whole).astype("Int64")
    if kind in ("money", "float"):
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "timestamp":
        return pd.to_datetime(series, errors="coerce", utc=True, format="ISO8601").astype(
            "datetime64[us, UTC]"
        )
    if kind == "date":
        return pd.to_datetime(series, errors="coerce", format="ISO8601").dt.normalize().astype(
            "datetime64[us]"
        )
    if kind == "bool":
        text = series.astype("string").str.strip().str.lower()
        mapping = {"1": True, "true": True, "t": True, "0": False, "false": False, "f": False}
        return text.map(mapping).astype("boolean")
    if kind == "str":
        return series.astype("string")
    raise ValueError(f"unknown column kind {kind!r}; expected one of {KINDS}")


def coerce(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Cast the named columns to their kinds; keep every other column as sent.

    Adds ``_parse_errors``: null where every value parsed, else ``"col='value'; ..."``.
    A missing required column is left missing: the suite's column checks report it.
    """
    out = frame.copy()
    errors = pd.Series(pd.NA, index=frame.index, dtype="string")
    for column, kind in columns.items():
        if column not in out.columns:
            continue
        raw = out[column]
        parsed = _parse(raw, kind)
        bad = raw.notna() & parsed.isna() & (raw.astype("string").str.strip() != "")
        if bad.any():
            text = column + "=" + raw[bad].astype("string").map(repr)
            errors[bad] = errors[bad].fillna("").str.cat(text, sep="; ").str.lstrip("; ")
        out[column] = parsed
    out[PARSE_ERRORS] = errors
    return out

"""Unix seconds to the text forms the sources use, for whole columns at once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def sql_timestamps(seconds: np.ndarray | pd.Series) -> list[str | None]:
    """``'YYYY-MM-DD HH:MM:SS'`` (UTC) per value; None where the value is NaN."""
    return _format(seconds, "%Y-%m-%d %H:%M:%S")


def iso_timestamps(seconds: np.ndarray | pd.Series) -> list[str | None]:
    """``'YYYY-MM-DDTHH:MM:SSZ'`` (UTC, as Zendesk writes them); None where NaN."""
    return _format(seconds, "%Y-%m-%dT%H:%M:%SZ")


def iso_timestamp(seconds: int) -> str:
    """One ``'YYYY-MM-DDTHH:MM:SSZ'`` (UTC) value, without pandas overhead."""
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _format(seconds: np.ndarray | pd.Series, pattern: str) -> list[str | None]:
    values = pd.Series(np.asarray(seconds, dtype=float))
    stamps = pd.to_datetime(values, unit="s", utc=True)
    text = stamps.dt.strftime(pattern)
    return [None if pd.isna(value) else str(value) for value in text]

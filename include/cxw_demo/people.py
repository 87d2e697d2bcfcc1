"""Customers and prospects: names, countries and the messy ways people type their email."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxw_demo.vocabulary import COUNTRIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES


def base_emails(first: np.ndarray, last: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Clean, lower-case addresses: ``first.last<number>@domain``."""
    local = (
        pd.Series(first).str.lower()
        + "."
        + pd.Series(last).str.lower().str.replace(r"[^a-z]", "", regex=True)
        + pd.Series(number).astype(str)
    )
    domain = pd.Series(np.array(EMAIL_DOMAINS)[number % len(EMAIL_DOMAINS)])
    return (local + "@" + domain).to_numpy(dtype=object)


def messy_emails(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """The same addresses as a person might type them: mixed case, stray spaces."""
    series = pd.Series(emails, dtype=object)
    draw = rng.random(len(series))
    local = series.str.split("@").str[0]
    domain = series.str.split("@").str[1]
    cased = np.select(
        [draw < 0.15, draw < 0.22, draw < 0.27],
        [
            (local.str.title() + "@" + domain.str.title()).to_numpy(dtype=object),
            series.str.upper().to_numpy(dtype=object),
            (local.str.capitalize() + "@" + domain).to_numpy(dtype=object),
        ],
        series.to_numpy(dtype=object),
    )
    spaces = rng.random(len(series))
    prefix = np.select([spaces < 0.08, spaces > 0.98], [" ", "  "], "")
    suffix = np.select([spaces > 0.90], [" "], "")
    padded = prefix.astype(object) + cased + suffix.astype(object)
    return np.asarray(padded, dtype=object)


def make_people(rng: np.random.Generator, count: int, first_number: int) -> pd.DataFrame:
    """``count`` people numbered from ``first_number``: names, country, city, clean email."""
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), count)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), count)]
    weights = np.array([weight for *_, weight in COUNTRIES])
    country_index = rng.choice(len(COUNTRIES), size=count, p=weights / weights.sum())
    cities = _cities(country_index, rng.integers(0, 1000, count))
    number = np.arange(first_number, first_number + count)
    return pd.DataFrame(
        {
            "first_name": first,
            "last_name": last,
            "country_index": country_index,
            "country": np.array([code for code, *_ in COUNTRIES], dtype=object)[country_index],
            "country_name": np.array([name for _, name, *_ in COUNTRIES], dtype=object)[
                country_index
            ],
            "city": cities,
            "clean_email": base_emails(first, last, number),
        }
    )


def _cities(country_index: np.ndarray, pick: np.ndarray) -> np.ndarray:
    result = np.empty(len(country_index), dtype=object)
    for index, (_, _, cities, _) in enumerate(COUNTRIES):
        chosen = country_index == index
        result[chosen] = np.array(cities, dtype=object)[pick[chosen] % len(cities)]
    return result

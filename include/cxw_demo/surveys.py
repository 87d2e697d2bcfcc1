"""Writes survey answers as the survey platform's CSV exports (sources.md §4).

One file per export day, ``responses_YYYYMMDD.csv``, UTF-8 with a byte-order mark and
RFC 4180 quoting (comments hold commas, quotes and line breaks). Some responses come
back in a later export, a few of them edited (new score or comment, later
``submitted_at``), so consumers must keep the latest ``submitted_at`` per ``response_id``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from cxw_demo.calendar_weights import DAY
from cxw_demo.people import messy_emails
from cxw_demo.timestamps import iso_timestamps
from cxw_demo.vocabulary import (
    SURVEY_COMMENTS_BAD,
    SURVEY_COMMENTS_GOOD,
    SURVEY_COMMENTS_LATE,
    SURVEY_COMMENTS_NEUTRAL,
    SURVEY_COMMENTS_SUPPORT,
    SURVEY_CONTACT_SUFFIXES,
)
from cxw_demo.world import World, stream

COLUMNS = (
    "response_id",
    "survey_type",
    "submitted_at",
    "respondent_email",
    "customer_id",
    "ticket_id",
    "order_id",
    "score",
    "comment",
)
#: (good from, neutral from) per survey type; below neutral is bad.
SENTIMENT_CUTS = {"nps": (9, 7), "csat": (4, 3), "ces": (6, 4)}
SCORE_RANGE = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
ALPHABET = np.array(list("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _response_ids(rng: np.random.Generator, count: int) -> list[str]:
    codes = ALPHABET[rng.integers(0, len(ALPHABET), (count, 15))]
    return ["R_" + "".join(row) for row in codes]


def _comments(
    rng: np.random.Generator,
    contacts: np.random.Generator,
    kinds: np.ndarray,
    scores: np.ndarray,
    was_late: np.ndarray,
    support_failed: np.ndarray,
    emails: np.ndarray,
) -> np.ndarray:
    """A comment per answer, by how the respondent felt and, when unhappy, by what went
    wrong: a late parcel gives a delivery complaint, a breached or unresolved ticket a
    support complaint. Some unhappy respondents add a phone number or their email
    (drawn from ``contacts``, a stream of its own, so the other draws stay as they were)."""
    comments = np.empty(len(kinds), dtype=object)
    pick = rng.integers(0, 1000, len(kinds))
    unhappy = np.zeros(len(kinds), dtype=bool)
    for kind, (good, neutral) in SENTIMENT_CUTS.items():
        bad = (kinds == kind) & (scores < neutral)
        unhappy |= bad
        for chosen, pool in (
            ((kinds == kind) & (scores >= good), SURVEY_COMMENTS_GOOD),
            ((kinds == kind) & (scores < good) & (scores >= neutral), SURVEY_COMMENTS_NEUTRAL),
            (bad & was_late, SURVEY_COMMENTS_LATE),
            (bad & ~was_late & support_failed, SURVEY_COMMENTS_SUPPORT),
            (bad & ~was_late & ~support_failed, SURVEY_COMMENTS_BAD),
        ):
            comments[chosen] = np.array(pool, dtype=object)[pick[chosen] % len(pool)]
    adds_contact = unhappy & (comments != "") & (contacts.random(len(kinds)) < 0.3)
    suffix = contacts.integers(0, len(SURVEY_CONTACT_SUFFIXES), len(kinds))
    for index in np.flatnonzero(adds_contact):
        comments[index] += SURVEY_CONTACT_SUFFIXES[suffix[index]].format(email=emails[index])
    return comments


def survey_rows(world: World, as_of: int | None = None) -> pd.DataFrame:
    """Every row exported (by ``as_of``, unix), re-exports and edits included, with the
    export day of its file."""
    rng = stream(world.config, "surveys")
    contacts = stream(world.config, "survey_contacts")
    answers = world.survey_answers
    count = len(answers)
    clean = np.concatenate(
        [world.customers["clean_email"].to_numpy(), world.prospects["clean_email"].to_numpy()]
    )
    kinds = answers["survey_type"].to_numpy()
    scores = answers["score"].to_numpy()
    known = answers["customer_id"].to_numpy() > 0
    emails = clean[answers["requester_key"].to_numpy()]
    was_late = answers["was_late"].to_numpy(dtype=bool)
    support_failed = answers["support_failed"].to_numpy(dtype=bool)
    rows = pd.DataFrame(
        {
            "response_id": _response_ids(rng, count),
            "survey_type": kinds,
            "submitted_at": answers["submitted_at"].to_numpy(),
            "respondent_email": messy_emails(rng, emails),
            "customer_id": np.where(known & (rng.random(count) < 0.85), answers["customer_id"], 0),
            "ticket_id": answers["ticket_id"].to_numpy(),
            "order_id": answers["order_id"].to_numpy(),
            "score": scores,
            "comment": _comments(rng, contacts, kinds, scores, was_late, support_failed, emails),
            "clean_email": emails,
            "was_late": was_late,
            "support_failed": support_failed,
        }
    )
    rows["export_day"] = rows["submitted_at"] // DAY

    again = rows[rng.random(count) < 0.1].copy()
    later = rng.integers(1, 8, len(again))
    again["export_day"] = again["export_day"] + later
    edited = rng.random(len(again)) < 0.35
    low = np.array([SCORE_RANGE[kind][0] for kind in again["survey_type"]])
    high = np.array([SCORE_RANGE[kind][1] for kind in again["survey_type"]])
    shift = rng.choice((-2, -1, 1, 2), len(again))
    again["score"] = np.where(edited, np.clip(again["score"] + shift, low, high), again["score"])
    again["submitted_at"] = np.where(
        edited,
        again["export_day"] * DAY + rng.integers(0, DAY // 2, len(again)),
        again["submitted_at"],
    )
    new_comments = _comments(
        rng,
        contacts,
        again["survey_type"].to_numpy(),
        again["score"].to_numpy(),
        again["was_late"].to_numpy(),
        again["support_failed"].to_numpy(),
        again["clean_email"].to_numpy(),
    )
    again["comment"] = np.where(edited, new_comments, again["comment"])
    rows = pd.concat([rows, again], ignore_index=True)
    cutoff = world.config.end_ts if as_of is None else min(as_of, world.config.end_ts)
    rows = rows[rows["export_day"] < cutoff // DAY]  # a day's export exists once the day is over
    rows = rows.drop(columns=["clean_email", "was_late", "support_failed"])
    return rows.sort_values(["export_day", "submitted_at", "response_id"], kind="stable")


def write_surveys(world: World, folder: Path, as_of: int | None = None) -> dict[str, int]:
    """Write ``responses_YYYYMMDD.csv`` per export day (up to ``as_of``); returns counts."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = survey_rows(world, as_of)
    text = rows.assign(
        submitted_at=iso_timestamps(rows["submitted_at"]),
        customer_id=_blank_zero(rows["customer_id"]),
        ticket_id=_blank_zero(rows["ticket_id"]),
        order_id=_blank_zero(rows["order_id"]),
        score=rows["score"].astype(str),
    )
    files = 0
    for day, group in text.groupby("export_day", sort=True):
        date = np.datetime_as_string(np.datetime64(int(day), "D")).replace("-", "")
        with (folder / f"responses_{date}.csv").open(
            "w", encoding="utf-8-sig", newline=""
        ) as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(group[list(COLUMNS)].itertuples(index=False, name=None))
        files += 1
    return {
        "files": files,
        "rows": len(rows),
        "responses": int(rows["response_id"].nunique()),
    }


def _blank_zero(values: pd.Series) -> list[str]:
    return ["" if value == 0 else str(value) for value in values.to_numpy(dtype=np.int64).tolist()]

"""Sentiment of survey comments, scored in Python before dbt builds the warehouse.

Why here and not in a dbt Python model: dbt-postgres runs no Python models, and the same
dbt project must build on DuckDB and on PostgreSQL. So before either build, this step
reads the landed survey batches, scores every distinct comment not scored yet with VADER
(``vaderSentiment``: a rule-based scorer whose lexicon, emoji included, ships inside the
package; nothing is downloaded) and writes one small table to the lake,
``survey_enrichment/comment_sentiment``: ``comment_key`` (MD5 hex of the comment's UTF-8
text, what dbt's ``dbt.hash`` computes on both warehouses), ``sentiment`` (VADER's
compound score, -1..1) and ``scored_with``. Both builds read it as a dbt source beside
the survey responses (the PostgreSQL build loads it like any landed table).

Only the key and the score are written: the comment itself stays in the raw survey
batches, and the text that reaches the marts is redacted in dbt (macro
``redact_free_text``). The table is a cache keyed by content: rerunning scores nothing
new and rewrites the same rows; deleting it only costs a rescore.
"""

from __future__ import annotations

import hashlib
import logging
import os
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cxw import duckdb_connection
from cxw.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "survey_enrichment"
TABLE = "comment_sentiment"
FILE_NAME = "comment_sentiment.parquet"
SCHEMA = pa.schema(
    [("comment_key", pa.string()), ("sentiment", pa.float64()), ("scored_with", pa.string())]
)


def comment_key(comment: str) -> str:
    """The key dbt joins on: MD5 hex of the UTF-8 text (``dbt.hash(comment)``)."""
    return hashlib.md5(comment.encode("utf-8"), usedforsecurity=False).hexdigest()


def sentiment_path(settings: Settings) -> Path:
    return settings.lake_dir / SOURCE / TABLE / FILE_NAME


def score_comments(settings: Settings) -> int:
    """Score the landed survey comments not scored yet; return how many were new.

    Does nothing while no survey batch has landed (the models over surveys are not
    built then). Writes the table, possibly empty, once surveys exist, so the dbt
    source is always there beside them."""
    landed = settings.lake_dir / "surveys" / "responses"
    responses = sorted(str(path) for path in landed.glob("*.parquet"))
    if not responses:
        return 0
    target = sentiment_path(settings)
    scored: dict[str, tuple[float, str]] = {}
    if target.exists():
        # One file: ParquetFile, not read_table, which imports pyarrow.dataset (~0.8-2.6 CPU
        # s, paid by every build process) for a few kilobytes.
        table = pq.ParquetFile(target).read()
        scored = {
            key: (value, scorer)
            for key, value, scorer in zip(
                table["comment_key"].to_pylist(),
                table["sentiment"].to_pylist(),
                table["scored_with"].to_pylist(),
                strict=True,
            )
        }
    with duckdb_connection.connect(settings=settings) as connection:
        comments = [
            comment
            for (comment,) in connection.execute(
                "select distinct comment from read_parquet($files, union_by_name = true) "
                "where comment is not null and trim(comment) <> ''",
                {"files": responses},
            ).fetchall()
        ]
    new = [comment for comment in comments if comment_key(comment) not in scored]
    if new or not target.exists():
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        scorer = f"vaderSentiment {version('vaderSentiment')} compound"
        for comment in new:
            scored[comment_key(comment)] = (analyzer.polarity_scores(comment)["compound"], scorer)
        _write(target, scored)
    log.info("comment sentiment: %d comments, %d newly scored", len(comments), len(new))
    return len(new)


def _write(target: Path, scored: dict[str, tuple[float, str]]) -> None:
    """Replace the table in one rename, so a reader never sees half a file."""
    keys = sorted(scored)
    table = pa.table(
        {
            "comment_key": keys,
            "sentiment": [scored[key][0] for key in keys],
            "scored_with": [scored[key][1] for key in keys],
        },
        schema=SCHEMA,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".parquet.partial")
    pq.write_table(table, partial)
    os.replace(partial, target)

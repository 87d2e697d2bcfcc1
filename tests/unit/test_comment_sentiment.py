"""Comment sentiment is scored offline before the build, once per distinct comment."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cxw import comment_sentiment
from cxw.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CXW_HOME", str(tmp_path))
    return Settings.from_env()


def land_comments(settings: Settings, name: str, comments: list[str | None]) -> None:
    folder = settings.lake_dir / "surveys" / "responses"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"response_id": [f"R{i}" for i in range(len(comments))], "comment": comments}
                 ).to_parquet(folder / name)


def scores(settings: Settings) -> dict[str, float]:
    table = pq.read_table(comment_sentiment.sentiment_path(settings))
    return dict(zip(table["comment_key"].to_pylist(), table["sentiment"].to_pylist(), strict=True))


def test_nothing_is_written_before_surveys_land(settings: Settings) -> None:
    assert comment_sentiment.score_comments(settings) == 0
    assert not comment_sentiment.sentiment_path(settings).exists()


def test_each_distinct_comment_is_scored_once_keyed_like_dbt_hash(settings: Settings) -> None:
    land_comments(settings, "a.parquet", ["I love this shop, great books!", "   ", None,
                                          "Terrible, the parcel was late 😡"])
    assert comment_sentiment.score_comments(settings) == 2  # blank and null are not comments
    first = scores(settings)
    # The key is what dbt.hash (md5 of the text) gives in the warehouse.
    ((love,),) = duckdb.sql("select md5('I love this shop, great books!')").fetchall()
    ((late,),) = duckdb.sql("select md5('Terrible, the parcel was late 😡')").fetchall()
    assert set(first) == {love, late}
    assert first[love] > 0.5 and first[late] < -0.3  # VADER's compound score, -1..1

    land_comments(settings, "b.parquet", ["I love this shop, great books!", "Ok."])
    assert comment_sentiment.score_comments(settings) == 1  # only "Ok." is new
    assert comment_sentiment.score_comments(settings) == 0  # a rerun scores nothing
    assert {key: scores(settings)[key] for key in first} == first

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cxw.lake import Window, batch_path, with_batch_columns, write_parquet_atomic


def test_window_batch_id_is_stable_and_names_the_window() -> None:
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    assert window.batch_id == "20260101T000000_20260102T000000"


def test_window_rejects_naive_and_reversed_bounds() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Window(datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="before its start"):
        Window(datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


def test_rewriting_a_window_replaces_its_batch(tmp_path: Path) -> None:
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    target = batch_path(tmp_path, "orders", "orders", window.batch_id)
    loaded_at = datetime(2026, 1, 2, 1, tzinfo=UTC)
    for ids in ([1, 2], [3]):
        batch = with_batch_columns(pd.DataFrame({"id": ids}), window, loaded_at)
        write_parquet_atomic(batch, target)

    files = list(target.parent.iterdir())
    assert files == [target], "no second copy and no temporary file left behind"
    frame = pd.read_parquet(target)
    assert frame["id"].tolist() == [3]
    assert frame["_batch_id"].unique().tolist() == [window.batch_id]


def test_failed_write_keeps_the_previous_version(tmp_path: Path) -> None:
    target = tmp_path / "batch.parquet"
    write_parquet_atomic(pd.DataFrame({"id": [1]}), target)
    unwritable = pd.DataFrame({"id": [object()]})
    with pytest.raises(Exception):  # noqa: B017 - pyarrow raises several types here
        write_parquet_atomic(unwritable, target)
    assert pd.read_parquet(target)["id"].tolist() == [1]
    assert [path.name for path in tmp_path.iterdir()] == ["batch.parquet"]

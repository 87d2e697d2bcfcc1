"""Survey CSV exports: BOM and RFC 4180 quoting, files loaded once by name and checksum."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cxw.landing import FilesRejected
from cxw.ledger import RejectedLedger, last_runs
from cxw.pipeline import land_surveys
from cxw.settings import Settings
from cxw.state import SyncState

HEADER = (
    "response_id,survey_type,submitted_at,respondent_email,"
    "customer_id,ticket_id,order_id,score,comment"
)
TRICKY_COMMENT = 'Slow reply, but "Anna" fixed it.\nThanks, really!'
DAY_ONE = "responses_20260301.csv"
DAY_TWO = "responses_20260302.csv"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def write(folder: Path, name: str, text: str, bom: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8-sig" if bom else "utf-8"))
    return path


def run() -> dict[str, int]:
    return land_surveys(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))


def landed(name: str) -> pd.DataFrame:
    day = name.removeprefix("responses_").removesuffix(".csv")
    folder = Settings.from_env().lake_dir / "surveys" / "responses"
    (path,) = folder.glob(f"{day}T000000_*.parquet")
    return pd.read_parquet(path)


def loaded_files() -> dict[str, dict]:
    return SyncState(Settings.from_env(), "surveys").get("files", {})


@pytest.fixture
def drop(cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "surveys"
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(folder))
    return folder


GOOD_DAY_ONE = csv_text(
    'R_1,csat,2026-03-01T10:00:00Z,Ann@Example.com ,7,501,,4,"Slow reply, but ""Anna"" fixed it.\n'
    'Thanks, really!"',
    "R_2,nps,2026-03-01T11:00:00Z,bob@example.com,,,9001,10,",
)


def test_bom_and_quoted_multiline_comments_land_as_sent(drop: Path) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE, bom=True)
    write(
        drop,
        DAY_TWO,
        csv_text(
            "R_3,ces,2026-03-02T09:00:00Z,cy@example.com,,,,7,NA,web",
            header=HEADER + ",channel",  # a column the contract does not name: kept
        ),
    )
    write(drop, "notes.txt", "not an export")

    assert run() == {DAY_ONE: 2, DAY_TWO: 1}
    first = landed(DAY_ONE)
    assert first.columns[0] == "response_id", "the byte-order mark is not part of the name"
    assert first["comment"].tolist()[0] == TRICKY_COMMENT
    assert pd.isna(first["comment"].tolist()[1])
    assert first["respondent_email"].tolist()[0] == "Ann@Example.com ", "raw keeps it as sent"
    assert first["score"].tolist() == [4, 10]
    assert first["customer_id"].tolist()[0] == 7 and pd.isna(first["customer_id"].tolist()[1])
    assert first["submitted_at"].tolist()[0] == pd.Timestamp("2026-03-01T10:00:00Z")
    assert set(first["_source_file"]) == {DAY_ONE}
    second = landed(DAY_TWO)
    assert second["channel"].tolist() == ["web"]
    assert second["comment"].tolist() == ["NA"], "only empty fields are missing values"


def test_reexported_response_is_kept_in_both_files(drop: Path) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    write(drop, DAY_TWO, csv_text("R_1,csat,2026-03-02T08:00:00Z,ann@example.com,7,501,,5,Better"))
    run()
    versions = pd.concat([landed(DAY_ONE), landed(DAY_TWO)])
    edits = versions[versions["response_id"] == "R_1"].sort_values("submitted_at")
    assert edits["score"].tolist() == [4, 5], "staging keeps the latest submitted_at"


def test_a_file_is_loaded_once_and_again_only_when_it_changes(drop: Path) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    assert run() == {DAY_ONE: 2}
    batch = next((Settings.from_env().lake_dir / "surveys" / "responses").iterdir())
    before = batch.read_bytes()

    assert run() == {}, "rerunning is a no-op"
    assert batch.read_bytes() == before

    write(drop, DAY_ONE, csv_text("R_9,nps,2026-03-01T12:00:00Z,d@example.com,,,,3,"))
    assert run() == {DAY_ONE: 1}, "re-delivered with other content: loaded again"
    assert landed(DAY_ONE)["response_id"].tolist() == ["R_9"], "its batch is replaced"
    assert len(list(batch.parent.iterdir())) == 1
    assert loaded_files()[DAY_ONE]["rows"] == 1


def test_out_of_range_score_is_quarantined_skipped_while_unchanged_revalidated_when_fixed(
    drop: Path,
) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    bad = write(
        drop,
        DAY_TWO,
        csv_text(
            "R_5,csat,2026-03-02T09:00:00Z,e@example.com,,,,6,Six of five",
            "R_6,nps,2026-03-02T09:05:00Z,f@example.com,,,,7.5,Half a point",
        ),
    )
    with pytest.raises(FilesRejected) as caught:
        run()

    message = str(caught.value)
    assert str(bad) in message
    assert "expect_column_values_to_be_between(column='score'" in message
    assert "'parameter': 'csat'" in message and "'response_id': 'R_5'" in message
    assert "score='7.5'" in message, "an unparseable score is named, not dropped"
    assert set(loaded_files()) == {DAY_ONE}, "the good file landed and counts as loaded"
    (rejected,) = caught.value.failures
    assert len(pd.read_parquet(rejected.quarantine_path / "data.parquet")) == 2

    ledger = RejectedLedger(Settings.from_env(), "surveys")
    entry = ledger.entries()[DAY_TWO]
    assert entry["sha256"] == hashlib.sha256(bad.read_bytes()).hexdigest()
    assert entry["reason"].startswith("surveys.responses: batch 20260302T000000_")
    assert "expect_column_values_to_be_between(score)" in entry["reason"]

    # The next run skips the unchanged file with a warning instead of failing again.
    assert run() == {}
    (warning,) = last_runs(Settings.from_env())["surveys"]["warnings"]
    assert warning.startswith(f"{bad} skipped: rejected on ")

    write(drop, DAY_TWO, csv_text("R_5,csat,2026-03-02T09:00:00Z,e@example.com,,,,5,Fixed"))
    assert run() == {DAY_TWO: 1}, "changed content is validated again"
    assert ledger.entries() == {}


def test_an_unparseable_file_is_quarantined_with_its_bytes_and_reason(drop: Path) -> None:
    latin1 = csv_text("R_8,nps,2026-03-02T09:00:00Z,h@example.com,,,,9,Très bien").encode(
        "latin-1"
    )
    drop.mkdir(parents=True)
    (drop / DAY_TWO).write_bytes(latin1)
    with pytest.raises(FilesRejected, match="cannot be read"):
        run()
    kept = Settings.from_env().quarantine_dir / "surveys" / "responses" / "unreadable" / DAY_TWO
    assert (kept / DAY_TWO).read_bytes() == latin1
    assert "'utf-8' codec can't decode" in (kept / "reason.txt").read_text()
    assert "cannot be read" in RejectedLedger(Settings.from_env(), "surveys").entries()[
        DAY_TWO
    ]["reason"]


def test_a_misnamed_export_is_warned_about(drop: Path) -> None:
    write(drop, "responses_2026-03-15.csv", GOOD_DAY_ONE)
    assert run() == {}
    (warning,) = last_runs(Settings.from_env())["surveys"]["warnings"]
    assert "responses_2026-03-15.csv looks like a survey export but is not named" in warning


def test_state_is_saved_only_after_the_batch_landed(
    drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE)

    def disk_full(*_: object) -> Path:
        raise OSError("No space left on device")

    with monkeypatch.context() as patch, pytest.raises(OSError, match="No space"):
        patch.setattr("cxw.landing.write_table_atomic", disk_full)
        run()
    assert loaded_files() == {}
    assert not (Settings.from_env().lake_dir / "surveys").exists()

    assert run() == {DAY_ONE: 2}
    assert set(loaded_files()) == {DAY_ONE}


def test_drop_location_setting_is_required(cxw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", "")  # empty means unset
    with pytest.raises(ValueError, match="CXW_SURVEY_DROP_PATH"):
        run()


def test_an_fsspec_url_works_as_the_drop_location(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    memory.pipe(f"/cxw-test-drop/{DAY_ONE}", GOOD_DAY_ONE.encode("utf-8-sig"))
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", "memory://cxw-test-drop")
    try:
        assert run() == {DAY_ONE: 2}
        assert landed(DAY_ONE)["comment"].tolist()[0] == TRICKY_COMMENT
    finally:
        memory.rm("/cxw-test-drop", recursive=True)


def test_a_runs_files_are_validated_together_once(
    drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cxw.landing

    calls = []
    real = cxw.landing.validate_frame

    def counting(frame, *args, **kwargs):
        calls.append(len(frame))
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(cxw.landing, "validate_frame", counting)
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    write(drop, DAY_TWO, csv_text("R_1,csat,2026-03-02T08:00:00Z,ann@example.com,7,501,,5,Better"))
    assert run() == {DAY_ONE: 2, DAY_TWO: 1}
    assert calls == [3], "one validation for both files (GX's cost is per validation)"


def test_a_response_twice_in_one_file_is_rejected_even_among_good_files(drop: Path) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    doubled = csv_text(
        "R_7,nps,2026-03-02T09:00:00Z,g@example.com,,,,9,",
        "R_7,nps,2026-03-02T09:01:00Z,g@example.com,,,,8,",
    )
    write(drop, DAY_TWO, doubled)
    with pytest.raises(FilesRejected, match="expect_compound_columns_to_be_unique"):
        run()
    assert set(loaded_files()) == {DAY_ONE}, "only the bad file is held back"


def test_files_typed_together_are_the_batches_each_file_gives_alone() -> None:
    from cxw.lake import Window
    from cxw.sources import typed_batch, typed_batches
    from cxw.sources.surveys import COLUMNS, SOURCE_FILE, SurveyExport, read_responses

    day = datetime(2026, 3, 1, tzinfo=UTC).date()
    texts = {
        DAY_ONE: GOOD_DAY_ONE,
        # A bad score and a bad timestamp: named in _parse_errors of this file's rows only.
        DAY_TWO: csv_text("R_3,csat,yesterday,c@example.com,8,,,4.5,", "R_4,csat,,,,,,5,ok"),
        "responses_20260303.csv": csv_text("R_5,nps,2026-03-03T08:00:00Z,,,,,9,"),
        # Other columns (one extra, one missing): typed apart, keeps exactly its own.
        "responses_20260304.csv": csv_text(
            "R_6,nps,2026-03-04T08:00:00Z,d@example.com,,,,9,,web",
            header=HEADER + ",channel",
        ),
        "responses_20260305.csv": csv_text(
            "R_7,nps,2026-03-05T08:00:00Z,e@example.com,,,,7",
            header=HEADER.removesuffix(",comment"),
        ),
    }
    parts = []
    for number, (name, text) in enumerate(texts.items()):
        export = SurveyExport(name, day, name, text.encode())
        start = datetime(2026, 3, 1 + number, tzinfo=UTC)
        parts.append((read_responses(export), Window(start, start.replace(day=2 + number)), name))
    together = typed_batches(parts, COLUMNS)
    assert [batch.window for batch in together] == [window for _, window, _ in parts]
    for batch, (rows, window, origin) in zip(together, parts, strict=True):
        alone = typed_batch(rows, COLUMNS, window, origin)
        assert batch.origin == origin
        assert batch.table.equals(alone.table), origin
        pd.testing.assert_frame_equal(batch.validation_frame, alone.validation_frame)
        assert set(batch.validation_frame[SOURCE_FILE]) == {origin}
    assert together[1].validation_frame["_parse_errors"].notna().tolist() == [True, False]


def test_an_unreadable_file_among_good_ones_is_held_back_alone(drop: Path) -> None:
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    (drop / DAY_TWO).write_bytes(
        csv_text("R_8,nps,2026-03-02T09:00:00Z,h@example.com,,,,9,Très bien").encode("latin-1")
    )
    good = csv_text("R_9,csat,2026-03-03T08:00:00Z,i@example.com,7,501,,5,")
    write(drop, "responses_20260303.csv", good)
    with pytest.raises(FilesRejected, match="cannot be read"):
        run()
    assert set(loaded_files()) == {DAY_ONE, "responses_20260303.csv"}
    assert landed("responses_20260303.csv")["response_id"].tolist() == ["R_9"]


def test_a_runs_files_have_their_state_saved_once_after_they_landed(
    drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves: list[set[str]] = []
    save = SyncState.save

    def recorded(self: SyncState, key: str, value: dict) -> None:
        if key == "files":
            lake = Settings.from_env().lake_dir / "surveys" / "responses"
            assert len(list(lake.glob("*.parquet"))) == len(value), "saved before it landed"
            saves.append(set(value))
        save(self, key, value)

    monkeypatch.setattr(SyncState, "save", recorded)
    write(drop, DAY_ONE, GOOD_DAY_ONE)
    write(drop, DAY_TWO, csv_text("R_3,csat,2026-03-02T08:00:00Z,c@example.com,7,501,,5,"))
    third = csv_text("R_4,nps,2026-03-03T08:00:00Z,d@example.com,,,,9,ok")
    write(drop, "responses_20260303.csv", third)
    assert run() == {DAY_ONE: 2, DAY_TWO: 1, "responses_20260303.csv": 1}
    assert saves == [{DAY_ONE, DAY_TWO, "responses_20260303.csv"}]

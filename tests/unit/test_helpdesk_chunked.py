"""A helpdesk export far longer than the chunk size (a first sync, a backfill) lands
every record once, in bounded memory: its pages are read as the batch is landed, a chunk
at a time, items repeated across pages keep one (the last) copy even when the copies
fall in different chunks, and the cursor enters the sync state only once the whole
batch has landed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cxw import pipeline
from cxw.lake import Window
from cxw.landing import land_chunks
from cxw.schema import PARSE_ERRORS
from cxw.settings import Settings
from cxw.sources import PendingBatch, StreamedBatch, helpdesk, typed_batch
from cxw.sources.helpdesk import ENTITIES, HelpdeskClient, HelpdeskConfig
from cxw.state import SyncState
from cxw_demo.config import DEFAULT_AGENT_EMAIL, DEFAULT_TOKEN, ORDER_FIELD_ID, SimulationConfig
from cxw_demo.helpdesk_data import build_helpdesk, load_helpdesk, write_helpdesk
from cxw_demo.helpdesk_server import HelpdeskServer, ServerFaults
from cxw_demo.world import build_world

SIM = SimulationConfig(customers=300, start=date(2026, 1, 5), end=date(2026, 1, 10), seed=7)
SIM_END = datetime.fromtimestamp(SIM.end_ts, UTC)
WINDOW = Window(datetime(2026, 1, 5, tzinfo=UTC), SIM_END)  # a first window: all history
STREAMED = ("tickets", "ticket_events", "users")


@pytest.fixture(scope="module")
def helpdesk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("helpdesk")
    write_helpdesk(build_helpdesk(build_world(SIM)), folder)
    return folder


@pytest.fixture
def server(helpdesk_dir: Path) -> Iterator[HelpdeskServer]:
    with HelpdeskServer(helpdesk_dir, now=SIM.end_ts + 600) as running:
        yield running


def client_for(server: HelpdeskServer, **options: Any) -> HelpdeskClient:
    options.setdefault("backoff_seconds", 0.01)
    config = HelpdeskConfig(server.url, DEFAULT_AGENT_EMAIL, DEFAULT_TOKEN, ORDER_FIELD_ID)
    return HelpdeskClient(config, **options)


def landed(home: Path, entity: str) -> pd.DataFrame:
    """The entity's one landed batch, ordered by its key (a streamed batch keeps chunk
    order), without its load time."""
    (path,) = (home / "lake" / "raw" / "helpdesk" / entity).glob("*.parquet")
    frame = pd.read_parquet(path).drop(columns="_loaded_at")
    return frame.sort_values(list(ENTITIES[entity].key), ignore_index=True)


def test_an_export_longer_than_a_chunk_is_streamed_one_within_it_is_one_batch(
    server: HelpdeskServer, helpdesk_dir: Path
) -> None:
    tickets = len(load_helpdesk(helpdesk_dir)["tickets"])
    with client_for(server, per_page=5) as client:
        whole = helpdesk.read_batch(client, ENTITIES["tickets"], WINDOW, WINDOW, tickets + 1)
        assert isinstance(whole, PendingBatch) and whole.rows == tickets
        assert whole.state["cursor"] and whole.state["pages"] >= tickets / 5

        streamed = helpdesk.read_batch(client, ENTITIES["tickets"], WINDOW, WINDOW, 10)
        assert isinstance(streamed, StreamedBatch)
        assert client.requests_made == whole.state["pages"] + 2, "2 pages read, no more yet"
        assert streamed.state == {}, "no cursor before the last page is read"
        chunks = list(streamed.chunks())
    # Pages of 5 joined into chunks of at least 10: 10 each, the last what remains.
    assert [chunk.rows for chunk in chunks[:-1]] == [10] * (len(chunks) - 1)
    assert sorted(i for c in chunks for i in c.table["id"].to_pylist()) == whole.table[
        "id"
    ].to_pylist()
    assert streamed.state == whole.state, "the same cursor and pages, once all is read"


def test_a_streamed_backfill_lands_what_one_chunk_lands_through_faults(
    server: HelpdeskServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same first window landed twice, in two homes: in one chunk, and in chunks of
    # 7 records from pages of 5, through rate limits and 5xx bursts. The time export
    # serves each page's last second again, so repeats straddle chunk boundaries.
    results = {}
    for name, chunk in (("one", 1_000_000), ("chunked", 7)):
        monkeypatch.setenv("CXW_HOME", str(tmp_path / name))
        monkeypatch.setenv("CXW_HELPDESK_CHUNK_RECORDS", str(chunk))
        server.faults = ServerFaults(rate_limit_every=5, error_every=7, error_burst=2)
        client = client_for(server, per_page=5, sleep=lambda seconds: None)
        results[name] = pipeline.land_helpdesk(WINDOW.start, WINDOW.end, client=client)
    assert results["chunked"] == results["one"]
    one, chunked = tmp_path / "one", tmp_path / "chunked"
    for entity in ENTITIES:
        pd.testing.assert_frame_equal(landed(chunked, entity), landed(one, entity))
    assert landed(one, "ticket_events")["child_id"].is_unique
    for home in (one, chunked):
        monkeypatch.setenv("CXW_HOME", str(home))
        state = SyncState(Settings.from_env(), "helpdesk").load()
        results[home.name] = {e: (state[e]["cursor"], state[e]["pages"]) for e in STREAMED}
    assert results["chunked"] == results["one"]
    (events,) = (chunked / "lake/raw/helpdesk/ticket_events").glob("*.parquet")
    assert pq.ParquetFile(events).metadata.num_row_groups > 1, "landed in chunks"


def test_a_sync_failing_after_some_chunks_publishes_nothing_and_keeps_the_old_state(
    server: HelpdeskServer, cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_HELPDESK_CHUNK_RECORDS", "10")
    pipeline.land_helpdesk(WINDOW.start, WINDOW.end, client=client_for(server, per_page=5))
    state = SyncState(Settings.from_env(), "helpdesk")
    before = state.get("ticket_events")
    folder = cxw_home / "lake/raw/helpdesk/ticket_events"
    published = (folder / f"{WINDOW.batch_id}.parquet").read_bytes()

    # The rerun's audits stop at page 6: three chunks written to the temporary file.
    with pytest.raises(helpdesk.SyncBoundExceeded, match="read 6 pages"):
        pipeline.land_helpdesk(
            WINDOW.start, WINDOW.end, client=client_for(server, per_page=5, max_pages=6)
        )
    assert state.get("ticket_events") == before, "the cursor moves only with a landed batch"
    assert [p.name for p in folder.iterdir()] == [f"{WINDOW.batch_id}.parquet"], "no temp"
    assert (folder / f"{WINDOW.batch_id}.parquet").read_bytes() == published


def test_a_ticket_changed_while_the_export_is_read_keeps_its_newer_copy_chunks_later(
    server: HelpdeskServer, cxw_home: Path
) -> None:
    # The cursor export serves a ticket again, later in the stream, when it changed while
    # being read. Here the first ticket's newer copy (solved, updated a minute after the
    # window) comes in the last of three chunks: the batch lands with that copy, once,
    # as one chunk holding both copies would (the later one wins), not quarantined.
    with client_for(server) as client:
        whole = helpdesk.read_batch(client, ENTITIES["tickets"], WINDOW, WINDOW, 1_000_000)
    frame = whole.validation_frame
    first = frame.iloc[[0]].copy()
    first["status"] = "solved"
    first["updated_at"] = first["updated_at"] + pd.Timedelta(minutes=1)
    third = len(frame) // 3
    pieces = [frame.iloc[:third], frame.iloc[third:2 * third],
              pd.concat([frame.iloc[2 * third:], first], ignore_index=True)]
    columns = ENTITIES["tickets"].columns
    streamed = StreamedBatch(
        lambda: (typed_batch(piece.drop(columns=[PARSE_ERRORS]), columns, WINDOW, "test")
                 for piece in pieces),
        WINDOW, "test", latest_copy_of=ENTITIES["tickets"].key,
    )
    rows = land_chunks(streamed, source="helpdesk", entity="tickets",
                       settings=Settings.from_env())
    tickets = landed(cxw_home, "tickets")
    assert rows == len(frame) == len(tickets) and tickets["id"].is_unique
    ticket = tickets.set_index("id").loc[first["id"].iloc[0]]
    assert ticket["status"] == "solved"
    assert ticket["updated_at"] == first["updated_at"].iloc[0]


# -- memory --------------------------------------------------------------------------------

CHUNK = 1_000


def copies_of(source: Path, target: Path, copies: int) -> dict[str, int]:
    """The helpdesk of ``source`` with its tickets and their audits ``copies`` times over
    (new ids, the same times: many audits share a second, so the time export repeats a
    lot across pages), its users and the rest as they are."""
    data = load_helpdesk(source)
    tickets, events = [], []
    for copy in range(copies):
        for ticket in data["tickets"]:
            tickets.append({**ticket, "id": ticket["id"] + copy * 10_000_000})
        for audit in data["ticket_events"]:
            children = [{**c, "id": c["id"] + copy * 10_000_000_000}
                        for c in audit["child_events"]]
            events.append({**audit, "id": audit["id"] + copy * 10_000_000_000,
                           "ticket_id": audit["ticket_id"] + copy * 10_000_000,
                           "child_events": children})
    write_helpdesk({**data, "tickets": tickets, "ticket_events": events}, target)
    return {"tickets": len(tickets), "audits": len(events)}


# Lands a tiny helpdesk first (warming up pandas, pyarrow and GX) and loads DuckDB (the
# batch-wide key check's, ~40 MiB of library whatever the rows), then lands one of about
# one chunk, then the big one, and prints the peak resident memory (VmHWM) above the
# warm baseline after each.
MEASURE = """
import json, sys
from datetime import datetime
from cxw.duckdb_connection import connect
from cxw.pipeline import land_helpdesk
from cxw.sources.helpdesk import HelpdeskClient, HelpdeskConfig

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

def land(url):
    config = HelpdeskConfig(url, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    return land_helpdesk(start, end, client=HelpdeskClient(config))

start, end = (datetime.fromisoformat(moment) for moment in sys.argv[1:3])
tiny = land(sys.argv[6])
connect().execute("select 1").fetchall()
baseline = peak_mb()
one = land(sys.argv[7])
one_chunk = peak_mb() - baseline
big = land(sys.argv[8])
print(json.dumps({"tiny": tiny, "one": one, "big": big, "one_chunk_mb": one_chunk,
                  "big_mb": peak_mb() - baseline}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_backfill_far_larger_than_the_chunk_lands_once_in_bounded_memory(
    helpdesk_dir: Path, cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audits = len(load_helpdesk(helpdesk_dir)["ticket_events"])
    # Each copy puts one more audit in the seconds the demo's audits are in: fewer
    # copies than a page (1,000 items) or the time export must skip a second's rest.
    copies = {"tiny": 1, "one": CHUNK // audits, "big": 800}
    sizes = {name: copies_of(helpdesk_dir, tmp_path / name, n) for name, n in copies.items()}
    assert sizes["one"]["audits"] <= CHUNK < 20 * CHUNK <= sizes["big"]["audits"], sizes
    monkeypatch.setenv("CXW_HELPDESK_CHUNK_RECORDS", str(CHUNK))
    servers = [HelpdeskServer(tmp_path / name, now=SIM.end_ts + 600).start()
               for name in ("tiny", "one", "big")]
    try:
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, WINDOW.start.isoformat(), WINDOW.end.isoformat(),
             DEFAULT_AGENT_EMAIL, DEFAULT_TOKEN, str(ORDER_FIELD_ID),
             *(running.url for running in servers)],
            capture_output=True, text=True, check=False,
        )
    finally:
        for running in servers:
            running.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    # Every ticket and every audit's rows once: the tiny helpdesk's, copies times over.
    for entity in ("tickets", "ticket_events"):
        assert measured["big"][entity] == copies["big"] * measured["tiny"][entity], measured
    events = landed(cxw_home, "ticket_events")
    assert len(events) == measured["big"]["ticket_events"] and events["child_id"].is_unique
    assert landed(cxw_home, "tickets")["id"].is_unique

    # 25 times the tickets and audits of the one-chunk helpdesk (8 chunks of tickets,
    # 25 of audits), about the same peak. Measured here: 59 MiB against 27 MiB for one
    # chunk; reading the exports whole (a chunk size above the rows) took 470 MiB.
    # Generous margin: 3x, plus 40 MiB for allocator noise.
    assert measured["big_mb"] < 3 * measured["one_chunk_mb"] + 40, measured

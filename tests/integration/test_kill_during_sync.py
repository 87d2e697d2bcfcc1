"""A kill -9 in the middle of a helpdesk sync loses and duplicates nothing.

The sync runs in its own process against the simulator (slowed down, so it is still
running when the first entity has landed) and is killed with SIGKILL as soon as the
tickets batch is in the lake. The state, the run record and the ledger are whole JSON
files (written atomically); the rerun completes, and the lake then holds exactly what a
clean sync of the same window in another home holds (rows compared without load times).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from cxw import pipeline
from cxw.settings import Settings
from cxw.sources.helpdesk import ENTITIES
from cxw_demo.helpdesk_server import HelpdeskServer, ServerFaults

HANDMADE = Path(__file__).parents[1] / "handmade" / "helpdesk"
TOKEN = "handmade-token"
START, END = datetime(2026, 2, 2, tzinfo=UTC), datetime(2026, 2, 4, tzinfo=UTC)
SYNC = (
    "from datetime import datetime; from cxw import pipeline; "
    f"pipeline.land_helpdesk(datetime.fromisoformat('{START.isoformat()}'), "
    f"datetime.fromisoformat('{END.isoformat()}'))"
)


def lake(home: Path) -> dict[str, pd.DataFrame]:
    folder = home / "lake" / "raw" / "helpdesk"
    return {
        entity: pd.read_parquet(folder / entity)
        .drop(columns=["_loaded_at"])
        .sort_values(list(pd.read_parquet(folder / entity).columns[:2]))
        .reset_index(drop=True)
        for entity in sorted(path.name for path in folder.iterdir())
    }


def test_a_killed_sync_reruns_to_the_same_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(END.timestamp())
    with HelpdeskServer(HANDMADE, token=TOKEN, now=now) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_HELPDESK_API",
            f"http://{quote('agent@shop.example', safe='')}:{TOKEN}@127.0.0.1:{server.port}"
            "?order_field_id=360000000001",
        )
        monkeypatch.setenv("CXW_HOME", str(tmp_path / "clean"))
        pipeline.land_helpdesk(START, END)

        monkeypatch.setenv("CXW_HOME", str(tmp_path / "killed"))
        settings = Settings.from_env()
        server.faults = ServerFaults(delay_seconds=0.3)  # still syncing after tickets land
        sync = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", SYNC], env=dict(os.environ), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tickets = settings.lake_dir / "helpdesk" / "tickets"
        while sync.poll() is None and not any(tickets.glob("*.parquet")):
            time.sleep(0.05)  # waiting for a state to reach, not measuring time
        assert sync.poll() is None, "the sync finished before it could be killed"
        os.kill(sync.pid, signal.SIGKILL)
        sync.wait()
        landed = sorted(path.name for path in (settings.lake_dir / "helpdesk").iterdir())
        assert "tickets" in landed and len(landed) < len(ENTITIES), "killed mid-sync"
        for state in settings.state_dir.rglob("*.json"):
            assert state.read_text().startswith("{"), f"{state} is whole"

        server.faults = ServerFaults()
        pipeline.land_helpdesk(START, END)

    clean, rerun = lake(tmp_path / "clean"), lake(tmp_path / "killed")
    assert clean.keys() == rerun.keys() == set(ENTITIES)
    for entity, frame in clean.items():
        pd.testing.assert_frame_equal(rerun[entity], frame, obj=entity)

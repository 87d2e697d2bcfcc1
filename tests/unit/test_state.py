from __future__ import annotations

from pathlib import Path

from cxw.settings import Settings
from cxw.state import SyncState


def test_state_survives_a_new_process_and_keeps_other_keys(cxw_home: Path) -> None:
    state = SyncState(Settings.from_env(), "helpdesk")
    assert state.get("tickets_cursor") is None
    state.save("tickets_cursor", "abc")
    state.save("users_cursor", "def")

    again = SyncState(Settings.from_env(), "helpdesk")
    assert again.get("tickets_cursor") == "abc"
    assert again.get("users_cursor") == "def"
    assert again.path == cxw_home / "state" / "helpdesk.json"
    assert [p.name for p in again.path.parent.iterdir()] == ["helpdesk.json"]

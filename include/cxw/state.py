"""Durable sync state (cursors, watermarks, loaded files), kept next to the lake.

One JSON file per source under ``$CXW_HOME/state/``, replaced atomically. A cursor is
saved only after the batch it ends is safely landed, so a failed run resumes where the
last good one stopped, and a worker on another machine sees the same state as long as
``CXW_HOME`` is shared.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cxw.settings import Settings


class SyncState:
    """Key-value state of one source: ``get`` what was saved, ``save`` a new value."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.path = settings.state_dir / f"{source}.json"

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def get(self, key: str, default: Any = None) -> Any:
        return self.load().get(key, default)

    def save(self, key: str, value: Any) -> None:
        """Set ``key`` and write the whole state atomically (temp file, then rename)."""
        state = self.load()
        state[key] = value
        self._write(state)

    def remove(self, key: str) -> None:
        """Drop ``key`` (if present) and write the whole state atomically."""
        state = self.load()
        if state.pop(key, None) is not None:
            self._write(state)

    def _write(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(state, handle, indent=2, sort_keys=True, default=str)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

"""What a source refused, on disk: the rejected-file ledger, quarantined unreadable files,
and each extract run's record (what landed, what was rejected or skipped, and why).

A rejected file (or batch) is recorded with the SHA-256 of its bytes and the one-line
reason. Later runs skip it with a warning as long as its content is the same (it would
fail the same way, every run), and validate it again once its content changes (the
file was fixed or re-delivered). A file that cannot even be parsed is kept whole in the
quarantine beside the parser's reason, so nothing refused is lost or undescribed.

Everything lives under ``$CXW_HOME`` (shared by all workers):
``state/rejected-<source>.json`` for the ledger, ``state/runs/<source>.json`` for the run
records, ``lake/quarantine/<source>/<entity>/unreadable/`` for unparseable files. The
run summary (``cxw.run_summary``) reads them.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxw.settings import Settings
from cxw.state import SyncState

log = logging.getLogger(__name__)

RUNS = "runs"


def one_line(error: BaseException | str) -> str:
    """One line for a summary or the ledger: a rejection's ``summary`` (naming the
    rules), else the first line of the message."""
    summary = getattr(error, "summary", None)
    if isinstance(summary, str):
        return summary
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class RejectedLedger:
    """Files or batches of one source that were rejected, by name, with checksum and reason."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.source = source
        self._state = SyncState(settings, f"rejected-{source}")

    def entries(self) -> dict[str, dict[str, Any]]:
        return self._state.load()

    def still_rejected(self, name: str, sha256: str) -> dict[str, Any] | None:
        """The ledger entry if ``name`` was rejected with exactly this content, else None
        (never rejected, or changed since: validate it again)."""
        entry = self.entries().get(name)
        if entry and entry.get("sha256") == sha256:
            return entry
        return None

    def record(
        self, name: str, sha256: str | None, reason: str, quarantine: Path | None = None
    ) -> None:
        self._state.save(
            name,
            {
                "sha256": sha256,
                "reason": reason,
                "quarantine": str(quarantine) if quarantine else None,
                "rejected_at": datetime.now(UTC).isoformat(),
            },
        )

    def clear(self, name: str) -> None:
        """Forget ``name``: its new content landed."""
        entries = self.entries()
        if name in entries:
            self._state.remove(name)


def quarantine_unreadable(
    settings: Settings, source: str, entity: str, name: str, content: bytes, reason: str
) -> Path:
    """Keep an unparseable file's bytes as received, with the parser's reason beside it;
    returns the folder (``lake/quarantine/<source>/<entity>/unreadable/<name>/``)."""
    where = settings.quarantine_dir / source / entity / "unreadable" / name
    where.mkdir(parents=True, exist_ok=True)
    _write_atomic(where / name, content)
    _write_atomic(where / "reason.txt", (reason.rstrip() + "\n").encode())
    return where


def _write_atomic(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class RunRecord:
    """What one extract run of a source did, for the run summary."""

    source: str
    window: str
    landed: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # file/batch -> one-line reason
    skipped: dict[str, str] = field(default_factory=dict)  # still rejected, same content
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # the one-line cause when the run failed outright

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self.source, message)
        self.warnings.append(message)

    def save(self, settings: Settings) -> None:
        SyncState(settings, f"{RUNS}/{self.source}").save(
            "last_run",
            {
                "window": self.window,
                "finished_at": datetime.now(UTC).isoformat(),
                "landed": self.landed,
                "rejected": self.rejected,
                "skipped": self.skipped,
                "warnings": self.warnings,
                "error": self.error,
            },
        )


def last_runs(settings: Settings) -> dict[str, dict[str, Any]]:
    """The latest run record of every source that has one (one file per source, so
    extract runs in parallel never overwrite each other's record)."""
    folder = settings.state_dir / RUNS
    return {
        path.stem: SyncState(settings, f"{RUNS}/{path.stem}").get("last_run")
        for path in sorted(folder.glob("*.json"))
    }

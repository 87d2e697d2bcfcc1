"""What a run did, per source, read back from disk: what landed, what was rejected (with
the reason), what was skipped or warned about, and which sources are stale.

Everything comes from ``$CXW_HOME`` (the extract runs' records and the rejected-file
ledger, see ``cxw.ledger``; the lake's batches for each source's latest data), so the
summary is the same whichever worker ran the tasks, and ``cxw run`` prints it at the end
whether the run passed or failed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cxw.lake import latest_data_date
from cxw.ledger import RejectedLedger, last_runs, one_line
from cxw.settings import Settings

SOURCES = ("helpdesk", "web", "orders", "surveys")
# The callback every cxw task fails through (cxw.dag_defaults.log_failure_summary).
TASK_FAILED = re.compile(r"cxw task failed: .*")


def source_lines(
    settings: Settings, source: str, record: dict[str, Any] | None, as_of: date | None
) -> list[str]:
    """The summary lines of one source: landed, rejected, skipped, warnings, stale."""
    lines = []
    if record is None:
        lines.append("not run yet")
    else:
        landed = record.get("landed") or {}
        rows = sum(landed.values())
        lines.append(f"landed {len(landed)} batch(es), {rows:,} row(s) for {record['window']}")
        if record.get("error"):
            lines.append(f"FAILED: {record['error']}")
        rejected = record.get("rejected") or {}
        lines += [f"rejected {name}: {reason}" for name, reason in rejected.items()]
        lines += [
            f"skipped {name} (still rejected, unchanged): {reason}"
            for name, reason in (record.get("skipped") or {}).items()
        ]
        lines += [f"warning: {warning}" for warning in record.get("warnings") or []]
    latest = latest_data_date(settings.lake_dir / source)
    if latest is None:
        lines.append("STALE: no data landed yet")
    elif as_of is not None and latest < as_of:
        lines.append(f"STALE: data up to {latest}, {(as_of - latest).days} day(s) behind {as_of}")
    else:
        lines.append(f"data up to {latest}")
    still = RejectedLedger(settings, source).entries()
    if still:
        lines.append(f"{len(still)} file(s)/batch(es) in the rejected ledger "
                     f"({settings.state_dir / f'rejected-{source}.json'})")
    return lines


def summary(settings: Settings, as_of: date | None = None) -> str:
    """The run summary: one block per source. ``as_of``: the day the data should reach
    (a source whose data ends before it is stale); by default the latest of any source."""
    if as_of is None:
        dates = [d for d in (latest_data_date(settings.lake_dir / s) for s in SOURCES) if d]
        as_of = max(dates) if dates else None
    runs = last_runs(settings)
    out = ["Run summary (per source):"]
    for source in SOURCES:
        first, *rest = source_lines(settings, source, runs.get(source), as_of)
        out.append(f"  {source:<9} {first}")
        out += [f"  {'':<9} {line}" for line in rest]
    return "\n".join(out)


def failure_line(settings: Settings, command: str, error: BaseException) -> str:
    """The one-line cause of a failed ``cxw`` command, with the path of a log that keeps
    the full output (never a 60-line tail on the terminal)."""
    text = str(error)
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"cxw-{command}-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
    path.write_text(text + "\n")
    causes = TASK_FAILED.findall(text)
    cause = causes[-1] if causes else one_line(error)
    return f"cxw {command} failed: {cause}\n  full output: {path}{_airflow_logs()}"


def _airflow_logs() -> str:
    import os

    home = os.environ.get("AIRFLOW_HOME")
    if not home:
        from cxw.local_airflow import DEFAULT_AIRFLOW_HOME

        home = str(DEFAULT_AIRFLOW_HOME)
    return f"\n  task logs:   {Path(home) / 'logs'}"

"""Fault switches: damage generated outputs on purpose, so tests see bad records.

Each fault touches a few records in the sources where the real system could send
them (the orders database's constraints rule some out: no null keys, no unknown
statuses, no duplicate primary keys there). Targets are fixed (first or last
records), so the same outputs get the same damage.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

FAULTS = (
    "missing_ids",
    "negative_amounts",
    "bad_timestamps",
    "unknown_enums",
    "duplicate_ids",
    "extra_column",
    "truncated_file",
)


def _last(folder: Path, pattern: str) -> Path | None:
    files = sorted(folder.glob(pattern))
    return files[-1] if files else None


def _edit_lines(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text("".join(line + "\n" for line in edit(text.splitlines())), encoding="utf-8")


def _edit_json_line(path: Path, index: int, change: Callable[[dict], None]) -> None:
    def edit(lines: list[str]) -> list[str]:
        record = json.loads(lines[index])
        change(record)
        lines[index] = json.dumps(record, separators=(",", ":"))
        return lines

    _edit_lines(path, edit)


def _survey_file(out: Path) -> tuple[Path, list[list[str]]] | None:
    path = _last(out / "surveys", "responses_*.csv")
    if path is None:
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return path, list(csv.reader(handle))


def _write_survey(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)


def _edit_survey(out: Path, change: Callable[[list[list[str]]], None]) -> str | None:
    found = _survey_file(out)
    if found is None or len(found[1]) < 2:
        return None
    path, rows = found
    change(rows)
    _write_survey(path, rows)
    return str(path.relative_to(out))


def _ga4_file(out: Path) -> Path | None:
    path = _last(out / "ga4", "events_*.jsonl")
    return path if path is not None and path.stat().st_size else None


def _sql(out: Path, statement: str) -> str:
    with sqlite3.connect(out / "shop.db") as db:
        db.execute(statement)
    return "shop.db"


def _missing_ids(out: Path) -> list[str]:
    done = [_edit_survey(out, lambda rows: rows[1].__setitem__(0, ""))]
    ga4 = _ga4_file(out)
    if ga4:
        _edit_json_line(ga4, 0, lambda event: event.update(user_pseudo_id=None))
        done.append(str(ga4.relative_to(out)))
    events = out / "helpdesk" / "ticket_events.jsonl"
    if events.stat().st_size:
        _edit_json_line(events, -1, lambda event: event.update(ticket_id=None))
        done.append("helpdesk/ticket_events.jsonl")
    return [d for d in done if d]


def _negative_amounts(out: Path) -> list[str]:
    return [
        _sql(
            out,
            "insert into refunds (id, order_id, amount, reason, created_at) "
            "select 8999, id, -12.50, 'correction', updated_at from orders order by id limit 1",
        )
    ]


def _bad_timestamps(out: Path) -> list[str]:
    done = [
        _sql(
            out,
            "update orders set placed_at = '2026-13-45 25:61:00' "
            "where id = (select min(id) from orders)",
        ),
        _edit_survey(out, lambda rows: rows[-1].__setitem__(2, "yesterday afternoon")),
    ]
    ga4 = _ga4_file(out)
    if ga4:
        _edit_json_line(ga4, -1, lambda event: event.update(event_timestamp="not-a-time"))
        done.append(str(ga4.relative_to(out)))
    return [d for d in done if d]


def _unknown_enums(out: Path) -> list[str]:
    done = [_edit_survey(out, lambda rows: rows[len(rows) // 2 or 1].__setitem__(1, "pulse"))]
    events = out / "helpdesk" / "ticket_events.jsonl"
    if events.stat().st_size:

        def archive(event: dict) -> None:
            event["child_events"].append(
                {
                    "id": 59999999999,
                    "event_type": "Change",
                    "field_name": "status",
                    "value": "archived",
                    "previous_value": None,
                }
            )

        _edit_json_line(events, 0, archive)
        done.append("helpdesk/ticket_events.jsonl")
    ga4 = _ga4_file(out)
    if ga4:
        _edit_json_line(ga4, 0, lambda event: event["device"].update(category="smart fridge"))
        done.append(str(ga4.relative_to(out)))
    return [d for d in done if d]


def _duplicate_ids(out: Path) -> list[str]:
    def conflict(rows: list[list[str]]) -> None:
        copy = list(rows[1])
        copy[7] = "0" if copy[7] != "0" else "1"
        rows.append(copy)

    done = [_edit_survey(out, conflict)]
    ga4 = _ga4_file(out)
    if ga4:
        _edit_lines(ga4, lambda lines: [*lines, lines[0]])
        done.append(str(ga4.relative_to(out)))
    events = out / "helpdesk" / "ticket_events.jsonl"
    if events.stat().st_size:
        _edit_lines(events, lambda lines: [*lines, lines[0]])
        done.append("helpdesk/ticket_events.jsonl")
    return [d for d in done if d]


def _extra_column(out: Path) -> list[str]:
    def widen(rows: list[list[str]]) -> None:
        rows[0].append("language")
        for row in rows[1:]:
            row.append("en")

    done = [
        _sql(out, "alter table customers add column loyalty_tier text default 'bronze'"),
        _edit_survey(out, widen),
    ]
    ga4 = _ga4_file(out)
    if ga4:
        _edit_lines(
            ga4,
            lambda lines: [
                line[:-1] + ',"privacy_info":{"analytics_storage":"Yes"}}' for line in lines
            ],
        )
        done.append(str(ga4.relative_to(out)))
    return [d for d in done if d]


def _truncated_file(out: Path) -> list[str]:
    done = []
    for path in (_ga4_file(out), _last(out / "surveys", "responses_*.csv")):
        if path is None:
            continue
        raw = path.read_bytes()
        path.write_bytes(raw[: max(1, len(raw) - max(5, len(raw.splitlines()[-1]) // 2))])
        done.append(str(path.relative_to(out)))
    return done


INJECTORS: dict[str, Callable[[Path], list[str]]] = {
    "missing_ids": _missing_ids,
    "negative_amounts": _negative_amounts,
    "bad_timestamps": _bad_timestamps,
    "unknown_enums": _unknown_enums,
    "duplicate_ids": _duplicate_ids,
    "extra_column": _extra_column,
    "truncated_file": _truncated_file,
}


def inject_faults(out_dir: Path | str, faults: Iterable[str]) -> dict[str, list[str]]:
    """Apply the named faults (or ``"all"``) to a generated folder; returns the files touched."""
    out = Path(out_dir)
    names = list(FAULTS) if "all" in faults else list(faults)
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown faults {unknown}; choose from {', '.join(FAULTS)} or all")
    # Truncation last, so the other faults still find whole files to edit.
    ordered = sorted(names, key=lambda name: name == "truncated_file")
    return {name: INJECTORS[name](out) for name in ordered}

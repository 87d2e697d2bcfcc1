"""The helpdesk's records in Zendesk's JSON shapes (sources.md §1), and their files.

Tickets are written as they stand at the end of the range; their history is the
audit trail in ``ticket_events.jsonl``, from which the server rebuilds each ticket
as it stood at any moment. Audits come from the lifecycle slots of ``ticket_lifecycle``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxw_demo.business_time import WEEKLY_INTERVALS
from cxw_demo.config import (
    DEFAULT_AGENT_EMAIL,
    ORDER_FIELD_ID,
    REASON_FIELD_ID,
    SCHEDULE_TIME_ZONE,
    SHOP_DOMAIN,
)
from cxw_demo.people import messy_emails
from cxw_demo.support_team import (
    ADMIN_ID,
    AGENT_WORK_TARGET,
    CALENDAR_HOURS,
    FIRST_REPLY_TARGET,
    NEXT_REPLY_TARGET,
    PRIORITIES,
    REQUESTER_WAIT_TARGET,
    SCHEDULE_ID,
    SLA_POLICY_ID,
)
from cxw_demo.timestamps import iso_timestamp, iso_timestamps
from cxw_demo.vocabulary import (
    AGENT_REPLIES,
    INTERNAL_NOTES,
    REQUESTER_REPLIES,
    SATISFACTION_COMMENTS_BAD,
    SATISFACTION_COMMENTS_GOOD,
    TICKET_REASONS,
)
from cxw_demo.world import World, stream

END_USER_ID_BASE = 362000000000
AUDIT_ID_BASE = 40000000000
CHILD_ID_BASE = 50000000000
STORY_SLICE = 10_000  # tickets turned into records at a time
SYSTEM_UPDATER = -1
FILES = (
    "tickets.jsonl",
    "ticket_events.jsonl",
    "users.json",
    "groups.json",
    "schedules.json",
    "holidays.json",
    "sla_policies.json",
    "meta.json",
)


def _iso(ts: int) -> str:
    return iso_timestamp(ts)


def _via(channel: str) -> dict[str, Any]:
    return {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}


class _AuditBuilder:
    """Turns one ticket's lifecycle slots into audits, tracking its fields as they change."""

    def __init__(
        self, ticket: dict[str, Any], requester: int, agent: int, group: int, end_ts: int
    ) -> None:
        self.ticket, self.requester, self.agent, self.group = ticket, requester, agent, group
        self.end_ts = end_ts
        self.status: str | None = None
        self.assignee: int | None = None
        self.priority: str = ticket["priority"]
        self.audits: list[dict[str, Any]] = []

    def _audit(self, ts: float, updater: int, children: list[dict[str, Any]], channel: str) -> None:
        self.audits.append(
            {
                "ticket_id": int(self.ticket["id"]),
                "timestamp": int(ts),
                "updater_id": updater,
                "via": _via(channel),
                "child_events": children,
            }
        )

    def _status(self, value: str) -> list[dict[str, Any]]:
        change = {
            "event_type": "Change",
            "field_name": "status",
            "value": value,
            "previous_value": self.status,
        }
        self.status = value
        return [change]

    def _assign(self) -> list[dict[str, Any]]:
        if self.assignee is not None:
            return []
        self.assignee = self.agent
        return [
            {
                "event_type": "Change",
                "field_name": "assignee_id",
                "value": str(self.agent),
                "previous_value": None,
            }
        ]

    @staticmethod
    def _comment(author: int, body: str, public: bool = True) -> dict[str, Any]:
        return {
            "event_type": "Comment",
            "public": public,
            "author_id": author,
            "body": body,
            "html_body": f"<p>{body}</p>",
            "attachments": [],
        }

    def build(self) -> list[dict[str, Any]]:
        ticket = self.ticket
        channel = ticket["channel"]
        live_agent = channel == "voice"
        opener = self.agent if live_agent else self.requester
        self.status = "new"
        create = [
            self._comment(opener, ticket["description"]),
            {"event_type": "Create", "field_name": "status", "value": "new"},
            {"event_type": "Create", "field_name": "priority", "value": ticket["priority"]},
            {"event_type": "Create", "field_name": "group_id", "value": str(self.group)},
            {"event_type": "Create", "field_name": "requester_id", "value": str(self.requester)},
            {"event_type": "Create", "field_name": "subject", "value": ticket["subject"]},
        ]
        self._audit(ticket["t_create"], opener, create, channel)
        if self._happened("t_triage"):
            self._audit(
                ticket["t_triage"], self.agent, self._assign() + self._status("open"), "web"
            )
        pick = int(ticket["id"])
        steps = (
            ("t_reply1", "agent", ticket["replies"] == 1),
            ("t_cust2", "requester", False),
            ("t_cust2b", "requester", False),
            ("t_hold", "hold", False),
            ("t_reply2", "agent", ticket["replies"] == 2),
            ("t_cust3", "requester", False),
            ("t_reply3", "agent", ticket["replies"] == 3),
            ("t_reopen", "reopen", False),
            ("t_reply_r", "agent", True),
        )
        for slot, actor, last in steps:
            if not self._happened(slot):
                continue
            pick += 1
            if actor == "agent":
                solves = bool(last and ticket["resolves"])
                children = self._assign() + [
                    self._comment(self.agent, AGENT_REPLIES[pick % len(AGENT_REPLIES)])
                ]
                target = "solved" if solves else "pending"
                if target != self.status:
                    children += self._status(target)
                if solves and slot != "t_reply_r":
                    children.append(
                        {
                            "event_type": "Change",
                            "field_name": "satisfaction_score",
                            "value": "offered",
                            "previous_value": "unoffered",
                        }
                    )
                self._audit(ticket[slot], self.agent, children, "web")
            elif actor == "hold":
                children = [self._comment(self.agent, INTERNAL_NOTES[pick % 2], public=False)]
                children += self._status("hold")
                if ticket["escalated"]:
                    children.append(
                        {
                            "event_type": "Change",
                            "field_name": "priority",
                            "value": "high",
                            "previous_value": self.priority,
                        }
                    )
                    self.priority = "high"
                self._audit(ticket[slot], self.agent, children, "web")
            else:
                children = [
                    self._comment(self.requester, REQUESTER_REPLIES[pick % len(REQUESTER_REPLIES)])
                ]
                if self.status != "open":
                    children += self._status("open")
                self._audit(ticket[slot], self.requester, children, "email")
        if self._happened("t_rating"):
            good = bool(ticket["rating_good"])
            pool = SATISFACTION_COMMENTS_GOOD if good else SATISFACTION_COMMENTS_BAD
            rating = {
                "event_type": "SatisfactionRating",
                "score": "good" if good else "bad",
                "comment": pool[pick % len(pool)],
                "assignee_id": self.assignee,
            }
            self._audit(ticket["t_rating"], self.requester, [rating], "web")
        if self._happened("t_close"):
            self._audit(ticket["t_close"], SYSTEM_UPDATER, self._status("closed"), "rule")
        return self.audits

    def _happened(self, slot: str) -> bool:
        value = self.ticket[slot]
        return not np.isnan(value) and value < self.end_ts


def _requesters(world: World, tickets: pd.DataFrame) -> pd.DataFrame:
    """One helpdesk end-user per person who opened a ticket, created at their first ticket."""
    rng = stream(world.config, "helpdesk-users")
    first = tickets.groupby("requester_key")["t_create"].min()
    keys = first.index.to_numpy()
    customers, prospects = world.customers, world.prospects
    n = len(customers)
    is_customer = keys < n
    prospect_key = np.where(is_customer, 0, keys - n)
    customer_key = np.where(is_customer, keys, 0)
    # Drawn for every prospect, so a person's spelling is the same in every snapshot.
    prospect_emails = messy_emails(rng, prospects["clean_email"].to_numpy())
    email = np.where(
        is_customer,
        customers["helpdesk_email"].to_numpy()[customer_key],
        prospect_emails[prospect_key],
    )
    first_name = np.where(
        is_customer,
        customers["first_name"].to_numpy()[customer_key],
        prospects["first_name"].to_numpy()[prospect_key],
    )
    last_name = np.where(
        is_customer,
        customers["last_name"].to_numpy()[customer_key],
        prospects["last_name"].to_numpy()[prospect_key],
    )
    created = first.to_numpy().astype(np.int64) - (keys % 29 + 1)
    return pd.DataFrame(
        {
            "key": keys,
            "id": END_USER_ID_BASE + keys,
            "name": first_name + " " + last_name,
            "email": email,
            "created_at": created,
        }
    )


def build_helpdesk(world: World, as_of: int | None = None) -> dict[str, Any]:
    """All helpdesk records (as of ``as_of``, unix; default the end of the range): tickets,
    audits, users, groups, schedule, holidays, SLA policy. ``write_helpdesk_of`` writes
    the same records without holding them."""
    tickets, requesters, cutoff = _prepared(world, as_of)
    records: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for record, ticket_audits in _stories(tickets, cutoff):
        records.append(record)
        audits.extend(ticket_audits)
    audits.sort(key=lambda audit: (audit["timestamp"], audit["ticket_id"]))
    numbered = list(_numbered(audits, _Numbers()))
    return {"tickets": records, "ticket_events": numbered,
            **_snapshots(world, requesters, cutoff)}


def write_helpdesk_of(world: World, folder: Path, as_of: int | None = None) -> dict[str, int]:
    """Write what ``build_helpdesk`` builds into ``folder``, the same bytes as
    ``write_helpdesk`` of it, in bounded memory: tickets are written as they are made,
    their audits bucketed by day on disk, then sorted, numbered and written a day at a
    time (audits are numbered in time order across all tickets)."""
    folder.mkdir(parents=True, exist_ok=True)
    tickets, requesters, cutoff = _prepared(world, as_of)
    counts = {"tickets": 0, "ticket_events": 0}
    with tempfile.TemporaryDirectory(dir=folder, prefix=".audits-") as scratch:
        buckets: dict[int, Any] = {}
        try:
            with (folder / "tickets.jsonl").open("w", encoding="utf-8") as handle:
                for record, ticket_audits in _stories(tickets, cutoff):
                    handle.write(_line(record))
                    counts["tickets"] += 1
                    for audit in ticket_audits:
                        day = audit["timestamp"] // 86400
                        if day not in buckets:
                            buckets[day] = open(  # noqa: SIM115 - closed below
                                Path(scratch) / f"{day}.jsonl", "w", encoding="utf-8"
                            )
                        buckets[day].write(_line([counts["ticket_events"], audit]))
                        counts["ticket_events"] += 1
        finally:
            for bucket in buckets.values():
                bucket.close()
        numbers = _Numbers()
        with (folder / "ticket_events.jsonl").open("w", encoding="utf-8") as handle:
            for day in sorted(buckets):
                audits = [json.loads(line) for line in (Path(scratch) / f"{day}.jsonl").open()]
                # Stable as build_helpdesk's sort: ties keep the order the audits were made.
                audits.sort(key=lambda pair: (pair[1]["timestamp"], pair[1]["ticket_id"], pair[0]))
                for audit in _numbered((audit for _, audit in audits), numbers):
                    handle.write(_line(audit))
    snapshots = _snapshots(world, requesters, cutoff)
    _write_snapshots(snapshots, folder)
    return {**counts, "users": len(snapshots["users"]), "groups": len(snapshots["groups"])}


def _prepared(world: World, as_of: int | None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The tickets opened before the cutoff with their people, subjects and texts."""
    config, team = world.config, world.team
    cutoff = config.end_ts if as_of is None else min(as_of, config.end_ts)
    tickets = world.tickets[world.tickets["t_create"] < cutoff].copy()
    requesters = _requesters(world, tickets)
    requester_id = pd.Series(requesters["id"].to_numpy(), index=requesters["key"].to_numpy())
    tickets["requester_id"] = requester_id.loc[tickets["requester_key"]].to_numpy()
    tickets["agent_id"] = team.agent_ids[tickets["agent_index"].to_numpy()]
    tickets["group_id"] = team.group_ids[tickets["group_index"].to_numpy()]
    named = world.orders[world.orders["id"].isin(tickets["order_id"])]  # not every order
    promised = dict(
        zip(
            named["id"].tolist(),
            named["promised_delivery_date"].dt.strftime("%Y-%m-%d").tolist(),
            strict=True,
        )
    )
    subjects, descriptions = [], []
    for reason, order_id in zip(tickets["reason"], tickets["order_id"], strict=True):
        subject, body = TICKET_REASONS[reason]
        when = str(promised.get(order_id, ""))[:10]
        subjects.append(subject.format(order=order_id or "", promised=when))
        descriptions.append(body.format(order=order_id or "", promised=when or "last week"))
    tickets["subject"] = subjects
    tickets["description"] = descriptions
    return tickets, requesters, cutoff


def _stories(tickets: pd.DataFrame, cutoff: int
             ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each ticket's record and its audits (not numbered yet), in ticket order."""
    for start in range(0, len(tickets), STORY_SLICE):
        for ticket in tickets.iloc[start : start + STORY_SLICE].to_dict("records"):
            builder = _AuditBuilder(
                ticket,
                int(ticket["requester_id"]),
                int(ticket["agent_id"]),
                int(ticket["group_id"]),
                cutoff,
            )
            ticket_audits = builder.build()
            yield _ticket_record(ticket, ticket_audits), ticket_audits


class _Numbers:
    """The next audit number and the last child id, carried across days."""

    def __init__(self) -> None:
        self.audit = 0
        self.child = CHILD_ID_BASE


def _numbered(audits: Iterable[dict[str, Any]], numbers: _Numbers) -> Iterator[dict[str, Any]]:
    """Audits (in time order) as the API serves them: numbered, their children too."""
    for audit in audits:
        audit_record = {
            "id": AUDIT_ID_BASE + numbers.audit,
            "ticket_id": audit["ticket_id"],
            "timestamp": audit["timestamp"],
            "created_at": _iso(audit["timestamp"]),
            "updater_id": audit["updater_id"],
            "via": audit["via"],
            "event_type": "Audit",
            "child_events": [],
        }
        numbers.audit += 1
        for child in audit["child_events"]:
            numbers.child += 1
            audit_record["child_events"].append({"id": numbers.child, **child})
        yield audit_record


def _snapshots(world: World, requesters: pd.DataFrame, cutoff: int) -> dict[str, Any]:
    """The helpdesk's small collections: users, groups, schedule, holidays, SLA policy."""
    config, team = world.config, world.team
    return {
        "users": _users(world, requesters),
        "groups": [
            {
                "id": int(group_id),
                "name": name,
                "description": f"{name} team",
                "default": index == 0,
                "deleted": False,
                "created_at": _iso(config.start_ts - 90 * 86400),
                "updated_at": _iso(config.start_ts - 90 * 86400),
            }
            for index, (group_id, name) in enumerate(
                zip(team.group_ids, team.group_names, strict=True)
            )
        ],
        "schedules": [_schedule(config.start_ts)],
        "holidays": {
            str(SCHEDULE_ID): [
                {
                    "id": SCHEDULE_ID * 10 + index,
                    "name": holiday.name,
                    "start_date": holiday.start_date.isoformat(),
                    "end_date": holiday.end_date.isoformat(),
                }
                for index, holiday in enumerate(world.holidays)
            ]
        },
        "sla_policies": [_sla_policy(config.start_ts)],
        "meta": {
            "order_field_id": ORDER_FIELD_ID,
            "reason_field_id": REASON_FIELD_ID,
            "agent_email": DEFAULT_AGENT_EMAIL,
            "start": config.start.isoformat(),
            "end": config.end.isoformat(),
            "end_ts": cutoff,
        },
    }


def _ticket_record(ticket: dict[str, Any], audits: list[dict[str, Any]]) -> dict[str, Any]:
    """The ticket as it stands after its last audit in the range."""
    state = initial_state(ticket["priority"], int(ticket["group_id"]))
    for audit in audits:
        apply_audit(state, audit)
    channel = ticket["channel"]
    return {
        "id": int(ticket["id"]),
        "url": f"https://support.{SHOP_DOMAIN}/api/v2/tickets/{int(ticket['id'])}.json",
        "external_id": None,
        "via": _via(channel),
        "created_at": _iso(int(ticket["t_create"])),
        "updated_at": _iso(state["updated_ts"] or int(ticket["t_create"])),
        "type": "incident" if ticket["reason"] != "how_to" else "question",
        "subject": ticket["subject"],
        "raw_subject": ticket["subject"],
        "description": ticket["description"],
        "priority": state["priority"],
        "status": state["status"],
        "recipient": f"support@{SHOP_DOMAIN}",
        "requester_id": int(ticket["requester_id"]),
        "submitter_id": int(ticket["agent_id"])
        if channel == "voice"
        else int(ticket["requester_id"]),
        "assignee_id": state["assignee_id"],
        "organization_id": None,
        "group_id": state["group_id"],
        "collaborator_ids": [],
        "follower_ids": [],
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": [ticket["reason"], channel],
        "custom_fields": [
            {"id": ORDER_FIELD_ID, "value": ticket["order_field"]},
            {"id": REASON_FIELD_ID, "value": ticket["reason"]},
        ],
        "satisfaction_rating": state["satisfaction_rating"],
    }


def initial_state(priority: str, group_id: int) -> dict[str, Any]:
    """A ticket's changing fields before its first audit."""
    return {
        "status": "new",
        "priority": priority,
        "assignee_id": None,
        "group_id": group_id,
        "satisfaction_rating": {"score": "unoffered"},
        "updated_ts": None,
    }


def apply_audit(state: dict[str, Any], audit: dict[str, Any]) -> None:
    """Move a ticket's changing fields on by one audit (Create, Change, SatisfactionRating)."""
    for child in audit["child_events"]:
        kind, field = child["event_type"], child.get("field_name")
        if kind in ("Create", "Change") and field in ("status", "priority"):
            state[field] = child["value"]
        elif kind in ("Create", "Change") and field in ("assignee_id", "group_id"):
            state[field] = int(child["value"]) if child["value"] is not None else None
        elif kind == "Change" and field == "satisfaction_score":
            state["satisfaction_rating"] = {"score": child["value"]}
        elif kind == "SatisfactionRating":
            state["satisfaction_rating"] = {"score": child["score"], "comment": child["comment"]}
    state["updated_ts"] = int(audit["timestamp"])


def _users(world: World, requesters: pd.DataFrame) -> list[dict[str, Any]]:
    config, team = world.config, world.team
    since = config.start_ts - 180 * 86400
    staff: list[dict[str, Any]] = [
        {
            "id": ADMIN_ID,
            "name": "Helpdesk Admin",
            "email": DEFAULT_AGENT_EMAIL,
            "role": "admin",
            "created_at": _iso(since),
            "updated_at": _iso(since),
            "active": True,
            "time_zone": SCHEDULE_TIME_ZONE,
        }
    ]
    for agent_id, name, email in zip(
        team.agent_ids, team.agent_names, team.agent_emails, strict=True
    ):
        staff.append(
            {
                "id": int(agent_id),
                "name": name,
                "email": email,
                "role": "agent",
                "created_at": _iso(since),
                "updated_at": _iso(since),
                "active": True,
                "time_zone": SCHEDULE_TIME_ZONE,
            }
        )
    created = iso_timestamps(requesters["created_at"])
    end_users = [
        {
            "id": int(user_id),
            "name": name,
            "email": email,
            "role": "end-user",
            "created_at": stamp,
            "updated_at": stamp,
            "active": True,
            "time_zone": SCHEDULE_TIME_ZONE,
        }
        for user_id, name, email, stamp in zip(
            requesters["id"], requesters["name"], requesters["email"], created, strict=True
        )
    ]
    return staff + end_users


def _schedule(start_ts: int) -> dict[str, Any]:
    return {
        "id": SCHEDULE_ID,
        "name": "Support hours (Berlin)",
        "time_zone": SCHEDULE_TIME_ZONE,
        "intervals": [{"start_time": start, "end_time": end} for start, end in WEEKLY_INTERVALS],
        "created_at": _iso(start_ts - 180 * 86400),
        "updated_at": _iso(start_ts - 180 * 86400),
    }


def _sla_policy(start_ts: int) -> dict[str, Any]:
    metrics = []
    for index, priority in enumerate(PRIORITIES):
        for metric, targets in (
            ("first_reply_time", FIRST_REPLY_TARGET),
            ("next_reply_time", NEXT_REPLY_TARGET),
            ("requester_wait_time", REQUESTER_WAIT_TARGET),
            ("agent_work_time", AGENT_WORK_TARGET),
        ):
            metrics.append(
                {
                    "priority": priority,
                    "metric": metric,
                    "target": int(targets[index]),
                    "business_hours": (priority, metric) not in CALENDAR_HOURS,
                }
            )
    return {
        "id": SLA_POLICY_ID,
        "url": f"https://support.{SHOP_DOMAIN}/api/v2/slas/policies/{SLA_POLICY_ID}.json",
        "title": "Standard support",
        "description": "Reply, wait and work targets by priority, in business or calendar hours.",
        "position": 1,
        "filter": {"all": [], "any": []},
        "policy_metrics": metrics,
        "created_at": _iso(start_ts - 180 * 86400),
        "updated_at": _iso(start_ts - 180 * 86400),
    }


def write_helpdesk(data: dict[str, Any], folder: Path) -> dict[str, int]:
    """Write the helpdesk records into ``folder`` (JSON Lines for the two big collections)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tickets", "ticket_events"):
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for record in data[name]:
                handle.write(_line(record))
    _write_snapshots(data, folder)
    return {name: len(data[name]) for name in ("tickets", "ticket_events", "users", "groups")}


def _line(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _write_snapshots(data: dict[str, Any], folder: Path) -> None:
    for name in ("users", "groups", "schedules", "holidays", "sla_policies", "meta"):
        (folder / f"{name}.json").write_text(
            json.dumps(data[name], ensure_ascii=False, indent=1) + "\n"
        )


def load_helpdesk(folder: Path) -> dict[str, Any]:
    """Read back what ``write_helpdesk`` wrote."""
    data: dict[str, Any] = {}
    for name in ("tickets", "ticket_events"):
        data[name] = list(_read_lines(folder / f"{name}.jsonl"))
    for name in ("users", "groups", "schedules", "holidays", "sla_policies", "meta"):
        data[name] = json.loads((folder / f"{name}.json").read_text())
    return data


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)

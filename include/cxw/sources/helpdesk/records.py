"""Flattening helpdesk records into the raw entities' rows; each row keeps the whole
record as sent, as JSON text, in ``_record``."""

from __future__ import annotations

import json
from typing import Any

from cxw.sources.helpdesk.paging import _moment


def record_json(record: Any) -> str:
    """The record as sent, as JSON text (key order kept, so equal input gives equal text)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


def _text(value: Any) -> str | None:
    """A field value as text: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def custom_field_value(ticket: dict[str, Any], field_id: int | None) -> str | None:
    """The value of the ticket's custom field ``field_id`` as text (None if absent)."""
    if field_id is None:
        return None
    for custom in ticket.get("custom_fields") or []:
        if str(_dict(custom).get("id")) == str(field_id):
            return _text(custom.get("value"))
    return None


def ticket_row(ticket: dict[str, Any], order_field_id: int | None) -> dict[str, Any]:
    rating = _dict(ticket.get("satisfaction_rating"))
    return {
        "id": ticket.get("id"),
        "created_at": ticket.get("created_at"),
        "updated_at": ticket.get("updated_at"),
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "requester_id": ticket.get("requester_id"),
        "submitter_id": ticket.get("submitter_id"),
        "assignee_id": ticket.get("assignee_id"),
        "group_id": ticket.get("group_id"),
        "channel": _dict(ticket.get("via")).get("channel"),
        "subject": ticket.get("subject"),
        "tags": _text(ticket.get("tags")),
        "order_id_field": custom_field_value(ticket, order_field_id),
        "satisfaction_score": rating.get("score"),
        "satisfaction_comment": rating.get("comment"),
        "_record": record_json(ticket),
    }


def _audit_time(audit: dict[str, Any]) -> Any:
    if audit.get("created_at") is not None:
        return audit["created_at"]
    moment = _moment(audit.get("timestamp"))
    return moment.isoformat() if moment else audit.get("timestamp")


def child_columns(child: dict[str, Any]) -> dict[str, Any]:
    """One child event's columns. A satisfaction rating carries its score in ``value``
    and its comment in ``body``, so ratings read like the other events."""
    rating = child.get("event_type") == "SatisfactionRating"
    return {
        "child_id": child.get("id"),
        "child_type": child.get("event_type"),
        "field_name": child.get("field_name"),
        "value": _text(child.get("score") if rating else child.get("value")),
        "previous_value": _text(child.get("previous_value")),
        "is_public": child.get("public"),
        "author_id": child.get("author_id"),
        "body": child.get("comment") if rating else child.get("body"),
    }


NO_CHILD = dict.fromkeys(child_columns({}))


def ticket_event_rows(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per child event of an audit (one empty-child row if it has none, so the
    audit is not lost)."""
    audit_columns = {
        "audit_id": audit.get("id"),
        "ticket_id": audit.get("ticket_id"),
        "created_at": _audit_time(audit),
        "updater_id": audit.get("updater_id"),
        "via_channel": _dict(audit.get("via")).get("channel"),
    }
    record = record_json(audit)
    children = [_dict(child) for child in audit.get("child_events") or []]
    return [
        {**audit_columns, **child_columns(child), "_record": record} for child in children
    ] or [{**audit_columns, **NO_CHILD, "_record": record}]


def user_row(user: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: user.get(name) for name in ("id", "name", "email", "role")},
        "created_at": user.get("created_at"),
        "updated_at": user.get("updated_at"),
        "_record": record_json(user),
    }


def group_row(group: dict[str, Any]) -> dict[str, Any]:
    return {"id": group.get("id"), "name": group.get("name"), "_record": record_json(group)}


def schedule_interval_rows(schedule: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per weekly interval (minutes from Sunday 00:00 in the schedule's zone)."""
    columns = {
        "schedule_id": schedule.get("id"),
        "schedule_name": schedule.get("name"),
        "time_zone": schedule.get("time_zone"),
    }
    record = record_json(schedule)
    intervals = [_dict(interval) for interval in schedule.get("intervals") or []]
    return [
        {**columns, "start_time": i.get("start_time"), "end_time": i.get("end_time"),
         "_record": record}
        for i in intervals
    ] or [{**columns, "start_time": None, "end_time": None, "_record": record}]


def holiday_row(holiday: dict[str, Any]) -> dict[str, Any]:
    sent = {key: value for key, value in holiday.items() if key != "_schedule_id"}
    return {
        "schedule_id": holiday.get("_schedule_id"),
        "holiday_id": holiday.get("id"),
        "name": holiday.get("name"),
        "start_date": holiday.get("start_date"),
        "end_date": holiday.get("end_date"),
        "_record": record_json(sent),
    }


def sla_policy_metric_rows(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (priority, metric) target of a policy."""
    columns = {"policy_id": policy.get("id"), "title": policy.get("title")}
    record = record_json(policy)
    return [
        {
            **columns,
            **{name: _dict(m).get(name) for name in ("priority", "metric", "target")},
            "business_hours": _dict(m).get("business_hours"),
            "_record": record,
        }
        for m in policy.get("policy_metrics") or []
    ]


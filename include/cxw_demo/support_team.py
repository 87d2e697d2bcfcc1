"""The support team: groups, agents and the SLA policy they are measured against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxw_demo.vocabulary import FIRST_NAMES, LAST_NAMES

#: (group name, contact reasons it handles, share of agents)
GROUPS = (
    ("Orders & Delivery", ("late_delivery", "damaged_item"), 0.5),
    ("Returns & Refunds", ("refund_request",), 0.25),
    ("Review Desk", ("how_to",), 0.25),
)
PRIORITIES = ("low", "normal", "high", "urgent")
#: SLA targets in minutes, by priority (index as PRIORITIES); first reply in business
#: minutes for every priority (the story's breaches).
FIRST_REPLY_TARGET = np.array([1440, 480, 240, 60])
NEXT_REPLY_TARGET = np.array([1440, 720, 480, 120])
REQUESTER_WAIT_TARGET = np.array([7200, 2880, 1440, 480])
AGENT_WORK_TARGET = np.array([4800, 1920, 960, 360])
#: (priority, metric) targets counted in calendar minutes; every other one in business
#: minutes. Requester wait is how long the customer waits, nights and weekends included;
#: urgent tickets are worked around the clock.
CALENDAR_HOURS = frozenset(
    {(priority, "requester_wait_time") for priority in PRIORITIES}
    | {("urgent", "next_reply_time"), ("urgent", "agent_work_time")}
)
#: Typical (median) business minutes to a first reply, by priority.
FIRST_REPLY_MEDIAN = np.array([420.0, 200.0, 90.0, 25.0])

GROUP_ID_BASE = 360001000000
AGENT_ID_BASE = 361000000000
ADMIN_ID = 360999999999
SLA_POLICY_ID = 360000200001
SCHEDULE_ID = 360000100001


@dataclass(frozen=True)
class SupportTeam:
    group_ids: np.ndarray  # per group
    group_names: tuple[str, ...]
    agent_ids: np.ndarray  # per agent
    agent_names: tuple[str, ...]
    agent_emails: tuple[str, ...]
    agent_group: np.ndarray  # group index per agent
    agent_speed: np.ndarray  # multiplies reply times
    agent_quality: np.ndarray  # adds to how satisfied requesters end up

    def group_of_reason(self, reasons: np.ndarray) -> np.ndarray:
        index = np.zeros(len(reasons), dtype=np.int64)
        for group_index, (_, handled, _) in enumerate(GROUPS):
            index[np.isin(reasons, handled)] = group_index
        return index

    def pick_agents(self, rng: np.random.Generator, group_index: np.ndarray) -> np.ndarray:
        """An agent index per ticket, uniformly within the ticket's group."""
        result = np.zeros(len(group_index), dtype=np.int64)
        for group in range(len(self.group_ids)):
            members = np.flatnonzero(self.agent_group == group)
            chosen = group_index == group
            result[chosen] = members[rng.integers(0, len(members), chosen.sum())]
        return result


def build_team(rng: np.random.Generator, customers: int) -> SupportTeam:
    """A team sized to the customer base: two agents per group at least."""
    total = max(6, round(customers / 3000))
    agent_group: list[int] = []
    for group_index, (_, _, share) in enumerate(GROUPS):
        agent_group.extend([group_index] * max(2, round(total * share)))
    count = len(agent_group)
    first = rng.choice(len(FIRST_NAMES), count)
    last = rng.choice(len(LAST_NAMES), count)
    names = tuple(f"{FIRST_NAMES[f]} {LAST_NAMES[la]}" for f, la in zip(first, last, strict=True))
    emails = tuple(
        f"{FIRST_NAMES[f].lower()}.{index}@inkwell-books.example" for index, f in enumerate(first)
    )
    return SupportTeam(
        group_ids=GROUP_ID_BASE + np.arange(len(GROUPS)),
        group_names=tuple(name for name, _, _ in GROUPS),
        agent_ids=AGENT_ID_BASE + np.arange(count),
        agent_names=names,
        agent_emails=emails,
        agent_group=np.array(agent_group),
        agent_speed=np.exp(rng.normal(0.0, 0.3, count)),
        agent_quality=rng.normal(0.0, 0.3, count),
    )

"""How each support ticket unfolds: replies, holds, solves, reopens, ratings, closing.

A ticket's life is a fixed row of optional steps (``SLOTS``), each with a time or NaN,
simulated for all tickets at once. The business clock decides when agents answer; the
outcome (reply speed against the SLA, resolution) feeds back into the customer's mood.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxw_demo.business_time import BusinessClock
from cxw_demo.support_team import (
    FIRST_REPLY_MEDIAN,
    FIRST_REPLY_TARGET,
    PRIORITIES,
    SupportTeam,
)

#: The steps a ticket can go through, in order; a step's time is NaN when it did not happen.
SLOTS = (
    "create",
    "triage",
    "reply1",
    "cust2",
    "cust2b",
    "hold",
    "reply2",
    "cust3",
    "reply3",
    "reopen",
    "reply_r",
    "rating",
    "close",
)
CHANNELS = ("email", "web", "chat", "voice", "api")
CHANNEL_WEIGHTS = np.array([0.42, 0.25, 0.16, 0.09, 0.08])
HOUR = 3600
DAY = 86_400

#: Priority distribution (low, normal, high, urgent) per contact reason.
PRIORITY_BY_REASON = {
    "late_delivery": (0.0, 0.7, 0.3, 0.0),
    "damaged_item": (0.0, 0.3, 0.6, 0.1),
    "refund_request": (0.2, 0.8, 0.0, 0.0),
    "how_to": (0.7, 0.3, 0.0, 0.0),
}


def _pick_priority(rng: np.random.Generator, reasons: np.ndarray) -> np.ndarray:
    priority = np.zeros(len(reasons), dtype=np.int64)
    for reason, weights in PRIORITY_BY_REASON.items():
        chosen = reasons == reason
        priority[chosen] = rng.choice(4, size=chosen.sum(), p=np.array(weights))
    return priority


def _later(previous: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """``candidate``, but at least a second after ``previous`` so steps stay ordered."""
    return np.maximum(candidate, previous + 1)


def simulate_tickets(
    rng: np.random.Generator,
    clock: BusinessClock,
    team: SupportTeam,
    created: np.ndarray,
    reasons: np.ndarray,
    busy: np.ndarray,
) -> pd.DataFrame:
    """Lifecycles of tickets opened at ``created`` (unix) for ``reasons``; ``busy``: rush days."""
    count = len(created)
    priority = _pick_priority(rng, reasons)
    channel = rng.choice(len(CHANNELS), size=count, p=CHANNEL_WEIGHTS)
    live = np.isin(channel, (2, 3))  # chat and voice happen while agents are online
    created = np.where(live, clock.next_open(created), created).astype(np.int64)
    group = team.group_of_reason(reasons)
    agent = team.pick_agents(rng, group)
    load = np.where(busy, 1.8, 1.0)

    unanswered = rng.random(count) < np.where(busy, 0.07, 0.035)
    unanswered &= ~live
    triaged = unanswered & (rng.random(count) < 0.4)
    median = FIRST_REPLY_MEDIAN[priority] * team.agent_speed[agent] * load
    first_reply_business = np.where(
        live, rng.uniform(0.5, 6.0, count), rng.lognormal(np.log(median), 0.8)
    )
    target = FIRST_REPLY_TARGET[priority]
    breached = unanswered | (first_reply_business > target)
    fast = ~breached & (first_reply_business < target / 2)

    replies = rng.choice((1, 2, 3), size=count, p=(0.45, 0.35, 0.20))
    resolves = ~unanswered & (rng.random(count) < np.where(busy, 0.9, 0.94))
    hold = (replies >= 2) & (rng.random(count) < 0.12)
    escalated = hold & (priority == 1) & (rng.random(count) < 0.5)
    reopened = resolves & (rng.random(count) < 0.08)

    nan = np.full(count, np.nan)
    times: dict[str, np.ndarray] = {slot: nan.copy() for slot in SLOTS}
    times["create"] = created.astype(float)
    triage = clock.add_business_minutes(created, rng.integers(5, 90, count))
    times["triage"] = np.where(triaged, _later(created, triage), np.nan)

    live_reply = created + rng.uniform(30, 360, count).astype(np.int64)
    queued_reply = clock.add_business_minutes(created, first_reply_business.astype(np.int64))
    reply1 = _later(created, np.where(live, live_reply, queued_reply))
    times["reply1"] = np.where(unanswered, np.nan, reply1)

    def requester_answer(after: np.ndarray) -> np.ndarray:
        return _later(after, after + rng.exponential(14 * HOUR, count).astype(np.int64))

    def agent_answer(after: np.ndarray) -> np.ndarray:
        minutes = rng.lognormal(np.log(median * 0.6), 0.7).astype(np.int64)
        return _later(after, clock.add_business_minutes(after, minutes))

    cust2 = requester_answer(reply1)
    hold_at = _later(cust2, clock.add_business_minutes(cust2, rng.integers(20, 120, count)))
    reply2 = agent_answer(np.where(hold, hold_at + rng.integers(1, 5, count) * DAY, cust2))
    cust3 = requester_answer(reply2)
    reply3 = agent_answer(cust3)
    has_second = ~unanswered & (replies >= 2)
    has_third = ~unanswered & (replies >= 3)
    times["cust2"] = np.where(has_second, cust2, np.nan)
    # About a quarter of requesters write once more before the agent answers (a nudge,
    # halfway to the hold or the reply): two comments waiting for one reply. Chosen from
    # the creation second, not drawn, so every other draw stays as it was.
    before_next = np.where(hold, hold_at, reply2)
    nudge = _later(cust2, cust2 + (before_next - cust2) // 2)
    nudged = has_second & (created // 7 % 4 == 0) & (nudge < before_next)
    times["cust2b"] = np.where(nudged, nudge, np.nan)
    times["hold"] = np.where(has_second & hold, hold_at, np.nan)
    times["reply2"] = np.where(has_second, reply2, np.nan)
    times["cust3"] = np.where(has_third, cust3, np.nan)
    times["reply3"] = np.where(has_third, reply3, np.nan)

    first_solve = np.select([replies == 1, replies == 2], [reply1, reply2], reply3)
    reopen_at = _later(first_solve, first_solve + rng.integers(6 * HOUR, 3 * DAY, count))
    reply_r = agent_answer(reopen_at)
    times["reopen"] = np.where(reopened, reopen_at, np.nan)
    times["reply_r"] = np.where(reopened, reply_r, np.nan)
    last_solve = np.where(reopened, reply_r, first_solve)

    quality = (
        rng.normal(0.0, 0.6, count)
        + team.agent_quality[agent]
        - 1.2 * breached
        - 2.0 * ~resolves
        + 0.6 * fast
        - 0.4 * reopened
        - 0.3 * np.isin(reasons, ("late_delivery", "damaged_item"))
    )
    rated = resolves & (rng.random(count) < 0.35)
    rating_at = _later(last_solve, last_solve + rng.integers(HOUR, 2 * DAY, count))
    times["rating"] = np.where(rated, rating_at, np.nan)
    close_at = _later(rating_at, last_solve + 4 * DAY + rng.integers(0, 6 * HOUR, count))
    times["close"] = np.where(resolves, close_at, np.nan)

    frame = pd.DataFrame({f"t_{slot}": times[slot] for slot in SLOTS})
    frame["reason"] = reasons
    frame["priority"] = np.array(PRIORITIES)[priority]
    frame["final_priority"] = np.array(PRIORITIES)[np.where(escalated, 2, priority)]
    frame["channel"] = np.array(CHANNELS)[channel]
    frame["group_index"] = group
    frame["agent_index"] = agent
    frame["replies"] = replies
    frame["resolves"] = resolves
    frame["unanswered"] = unanswered
    frame["breached"] = breached
    frame["fast"] = fast
    frame["reopened"] = reopened
    frame["rated"] = rated
    frame["quality"] = quality
    frame["rating_good"] = quality + rng.normal(0.0, 0.3, count) > -0.6
    frame["escalated"] = escalated
    return frame

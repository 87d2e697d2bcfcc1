"""Orders, one round at a time: basket, fulfilment, problems, tickets, refunds, mood.

Round ``k`` is every active customer's ``k``-th order, simulated for all of them at
once. What happens to an order (late, damaged, a slow or unresolved ticket) moves
the customer's mood, and the mood decides their NPS answer and whether there is a
round ``k + 1`` for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxw_demo.business_time import BusinessClock
from cxw_demo.calendar_weights import DAY, HOUR_WEIGHTS, is_peak, thin_by_season
from cxw_demo.config import SimulationConfig
from cxw_demo.support_team import SupportTeam
from cxw_demo.ticket_lifecycle import simulate_tickets

HOUR = 3600
MAX_ORDER_ROUNDS = 80
BOOK_TAX, REVIEW_TAX = 0.07, 0.19
FREE_SHIPPING_FROM_CENTS = 3500
#: Where a returning customer's first order in the range falls (mean days after the start).
RETURNING_FIRST_ORDER_DAYS = 45
#: How much a bad order (late, or a breached or unresolved ticket) lowers the log-odds of
#: ordering again, on top of the mood it leaves.
BAD_ORDER_PENALTY = 2.5


@dataclass
class OrderHistory:
    """Everything the rounds produced, before ids are assigned."""

    orders: list[pd.DataFrame] = field(default_factory=list)
    items: list[pd.DataFrame] = field(default_factory=list)
    refunds: list[pd.DataFrame] = field(default_factory=list)
    tickets: list[pd.DataFrame] = field(default_factory=list)
    nps: list[pd.DataFrame] = field(default_factory=list)


def order_items(
    rng: np.random.Generator, count: int, products: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Basket lines for ``count`` orders, and whether each order includes a review service."""
    is_book = (products["category"] == "books").to_numpy()
    book_ids = products["id"].to_numpy()[is_book]
    review_ids = products["id"].to_numpy()[~is_book]
    popularity = 1.0 / (np.arange(len(book_ids)) + 3.0)
    has_review = rng.random(count) < 0.22
    books = np.where(has_review, (rng.random(count) < 0.4).astype(int), 1 + rng.poisson(0.5, count))
    book_order = np.repeat(np.arange(count), books)
    book_product = book_ids[
        rng.choice(len(book_ids), len(book_order), p=popularity / popularity.sum())
    ]
    review_order = np.flatnonzero(has_review)
    review_product = review_ids[
        rng.choice(len(review_ids), len(review_order), p=(0.3, 0.4, 0.2, 0.1))
    ]
    lines = pd.DataFrame(
        {
            "order_index": np.concatenate([book_order, review_order]),
            "product_id": np.concatenate([book_product, review_product]),
        }
    )
    lines = lines.sort_values(["order_index", "product_id"], kind="stable")
    lines = lines.drop_duplicates(["order_index", "product_id"]).reset_index(drop=True)
    lines["quantity"] = np.where(rng.random(len(lines)) < 0.9, 1, 2)
    prices = products.set_index("id")["price_cents"]
    lines["unit_price_cents"] = prices.loc[lines["product_id"]].to_numpy()
    lines["is_book"] = np.isin(lines["product_id"].to_numpy(), book_ids)
    return lines, has_review


def _price(batch: pd.DataFrame, lines: pd.DataFrame, far: np.ndarray) -> None:
    """Subtotal, tax (7 % books, 19 % services), shipping (free from 35 EUR of books), total."""
    size = len(batch)
    index = lines["order_index"].to_numpy()
    line_total = (lines["quantity"] * lines["unit_price_cents"]).to_numpy()
    line_tax = line_total * np.where(lines["is_book"], BOOK_TAX, REVIEW_TAX)
    subtotal = np.bincount(index, weights=line_total, minlength=size)
    book_value = np.bincount(index, weights=line_total * lines["is_book"], minlength=size)
    tax = np.round(np.bincount(index, weights=line_tax, minlength=size))
    no_parcel = (book_value == 0) | (book_value >= FREE_SHIPPING_FROM_CENTS)
    shipping = np.where(no_parcel, 0, np.where(far, 990, 490))
    batch["subtotal_cents"] = subtotal.astype(np.int64)
    batch["shipping_cents"] = shipping.astype(np.int64)
    batch["tax_cents"] = tax.astype(np.int64)
    batch["total_cents"] = batch["subtotal_cents"] + batch["shipping_cents"] + batch["tax_cents"]
    batch["book_value_cents"] = book_value.astype(np.int64)


def _fulfil(
    rng: np.random.Generator, batch: pd.DataFrame, domestic: np.ndarray, far: np.ndarray
) -> None:
    """Promise, ship and deliver (slower before Christmas and abroad); a few are cancelled."""
    size = len(batch)
    placed = batch["placed_at"].to_numpy()
    has_review = batch["has_review"].to_numpy()
    review_only = has_review & (batch["book_value_cents"].to_numpy() == 0)
    peak = is_peak(placed)
    promised_day = placed // DAY + np.where(has_review, 7, 3) + 2 * ~domestic + 3 * far
    ship_hours = rng.lognormal(np.log(np.where(peak, 30, 16)), 0.6)
    shipped = placed + (ship_hours * HOUR).astype(np.int64)
    transit_days = 1 + rng.poisson(np.where(peak, 1.3, 0.7)) + ~domestic + 2 * far
    parcel_at = (shipped // DAY + transit_days) * DAY + rng.integers(8, 18, size) * HOUR
    review_ready = placed + (rng.lognormal(np.log(4.5), 0.35, size) * DAY).astype(np.int64)
    shipped = np.where(review_only, review_ready, shipped)
    delivered = np.maximum(np.where(review_only, review_ready, parcel_at), shipped + HOUR)
    cancelled = rng.random(size) < 0.03
    days_late = np.where(cancelled, 0, delivered // DAY - promised_day)
    batch["promised_day"] = promised_day
    batch["shipped_at"] = shipped
    batch["delivered_at"] = delivered
    batch["cancelled"] = cancelled
    batch["cancelled_at"] = placed + rng.integers(600, 20 * HOUR, size)
    batch["days_late"] = days_late
    batch["is_late"] = days_late > 0


def _problems(rng: np.random.Generator, batch: pd.DataFrame) -> None:
    """Which orders make the customer write in, why, and when."""
    size = len(batch)
    cancelled = batch["cancelled"].to_numpy()
    days_late = batch["days_late"].to_numpy()
    damaged = ~cancelled & (batch["book_value_cents"].to_numpy() > 0) & (rng.random(size) < 0.035)
    wants_refund = ~cancelled & ~damaged & (rng.random(size) < 0.03)
    asks_how = rng.random(size) < np.where(batch["has_review"], 0.15, 0.02)
    draw = rng.random(size)
    reason = np.select(
        [
            damaged & (draw < 0.85),
            (days_late > 0) & (draw < 0.3 + 0.15 * np.minimum(days_late, 3)),
            wants_refund,
            asks_how,
        ],
        ["damaged_item", "late_delivery", "refund_request", "how_to"],
        "",
    )
    delivered = batch["delivered_at"].to_numpy()
    day_after_promise = (batch["promised_day"].to_numpy() + 1) * DAY + 6 * HOUR
    batch["damaged"] = damaged
    batch["reason"] = reason
    batch["ticket_at"] = np.select(
        [reason == "damaged_item", reason == "late_delivery", reason == "refund_request"],
        [
            delivered + HOUR + rng.exponential(10 * HOUR, size).astype(np.int64),
            day_after_promise + rng.exponential(10 * HOUR, size).astype(np.int64),
            delivered + rng.integers(DAY, 14 * DAY, size),
        ],
        batch["placed_at"].to_numpy() + rng.integers(HOUR, 3 * DAY, size),
    )


def _open_tickets(
    rng: np.random.Generator, clock: BusinessClock, team: SupportTeam, batch: pd.DataFrame
) -> pd.DataFrame:
    """Tickets for the orders with a problem; their outcome is copied onto the orders."""
    with_ticket = np.flatnonzero(batch["reason"].to_numpy() != "")
    opened = batch["ticket_at"].to_numpy()[with_ticket]
    reasons = batch["reason"].to_numpy()[with_ticket]
    tickets = simulate_tickets(rng, clock, team, opened, reasons, is_peak(opened))
    tickets["customer_index"] = batch["customer_index"].to_numpy()[with_ticket]
    tickets["order_key"] = batch["order_key"].to_numpy()[with_ticket]
    tickets["names_order"] = rng.random(len(with_ticket)) < np.where(reasons == "how_to", 0.5, 0.9)
    size = len(batch)
    batch["has_ticket"] = batch["reason"] != ""
    for column, empty in (
        ("resolves", False),
        ("breached", False),
        ("fast", False),
        ("quality", 0.0),
    ):
        values = np.full(size, empty)
        values[with_ticket] = tickets[column].to_numpy()
        batch[f"ticket_{column}"] = values
    solved_at = batch["delivered_at"].to_numpy().astype(float) + 3 * DAY
    reply = tickets["t_reply1"].to_numpy()
    solved_at[with_ticket] = np.where(np.isnan(reply), solved_at[with_ticket], reply)
    batch["ticket_answered_at"] = solved_at
    return tickets


def _refunds(rng: np.random.Generator, batch: pd.DataFrame) -> pd.DataFrame:
    """Money back: damaged goods in full, returns less shipping, late parcels their shipping."""
    size = len(batch)
    reason = batch["reason"].to_numpy()
    draw = rng.random(size)
    kind = np.select(
        [
            batch["damaged"].to_numpy() & (draw < 0.9),
            (reason == "refund_request") & batch["ticket_resolves"].to_numpy() & (draw < 0.8),
            (reason == "late_delivery") & (batch["shipping_cents"].to_numpy() > 0) & (draw < 0.3),
        ],
        ["damaged", "returned", "late_delivery_goodwill"],
        "",
    )
    amount = np.select(
        [kind == "damaged", kind == "returned"],
        [batch["total_cents"], batch["subtotal_cents"] + batch["tax_cents"]],
        batch["shipping_cents"],
    )
    answered = batch["ticket_answered_at"].to_numpy()
    created = np.select(
        [kind == "damaged", kind == "returned"],
        [
            answered + rng.integers(2 * DAY, 20 * DAY, size),
            batch["ticket_at"].to_numpy() + rng.integers(7 * DAY, 21 * DAY, size),
        ],
        answered + rng.integers(HOUR, 2 * DAY, size),
    )
    batch["refund_kind"] = kind
    chosen = kind != ""
    return pd.DataFrame(
        {
            "order_key": batch["order_key"].to_numpy()[chosen],
            "amount_cents": amount[chosen].astype(np.int64),
            "reason": kind[chosen],
            "created_at": created[chosen].astype(np.int64),
            "is_full": kind[chosen] != "late_delivery_goodwill",
        }
    )


def _experience(batch: pd.DataFrame) -> np.ndarray:
    """How much this order lifted (or sank) the customer's mood."""
    late = batch["is_late"].to_numpy()
    days_late = batch["days_late"].to_numpy()
    ticket = batch["has_ticket"].to_numpy()
    resolves = batch["ticket_resolves"].to_numpy()
    made_good = np.isin(batch["refund_kind"].to_numpy(), ("damaged", "returned"))
    return (
        0.3
        - np.where(late, 1.0 + 0.3 * np.minimum(days_late - 1, 3), 0.0)
        - 1.0 * batch["damaged"].to_numpy()
        - ticket
        * (
            0.8 * batch["ticket_breached"].to_numpy()
            + 1.5 * ~resolves
            - 0.4 * batch["ticket_fast"].to_numpy()
            - 0.2 * resolves
        )
        + ticket * 0.3 * batch["ticket_quality"].to_numpy()
        + 0.3 * made_good
        - 0.8 * batch["cancelled"].to_numpy()
    )


def _nps(rng: np.random.Generator, batch: pd.DataFrame, mood: np.ndarray) -> pd.DataFrame:
    """A fifth of deliveries are followed by the relationship survey; the mood sets the score."""
    size = len(batch)
    asked = ~batch["cancelled"].to_numpy() & (rng.random(size) < 0.2)
    submitted = batch["delivered_at"].to_numpy() + rng.integers(2 * DAY, 10 * DAY, size)
    score = np.clip(np.round(7.8 + 1.4 * mood + rng.normal(0.0, 1.2, size)), 0, 10)
    return pd.DataFrame(
        {
            "customer_index": batch["customer_index"].to_numpy()[asked],
            "submitted_at": submitted[asked],
            "score": score[asked],
            "mood": mood[asked],
            # What went wrong with the order just delivered: the comment talks about it.
            "was_late": batch["is_late"].to_numpy()[asked],
            "support_failed": (
                batch["has_ticket"].to_numpy()
                & (batch["ticket_breached"].to_numpy() | ~batch["ticket_resolves"].to_numpy())
            )[asked],
        }
    )


def _next_order_at(
    rng: np.random.Generator,
    config: SimulationConfig,
    weights: np.ndarray,
    batch: pd.DataFrame,
    loyalty: np.ndarray,
    mood: np.ndarray,
) -> np.ndarray:
    """When each customer orders again (inf: never), from loyalty, mood and the season.

    An order that just went wrong (late, or its ticket breached the reply SLA or was never
    resolved) weighs far more than the mood it leaves: after a good order ~85% of customers
    come back, after a bad one ~20%. That is the story the marts must be able to show.
    """
    size = len(batch)
    went_wrong = batch["is_late"].to_numpy() | (
        batch["has_ticket"].to_numpy()
        & (batch["ticket_breached"].to_numpy() | ~batch["ticket_resolves"].to_numpy())
    )
    again = rng.random(size) < _sigmoid(
        1.8 + 3.0 * (loyalty - 0.5) + 0.8 * mood - BAD_ORDER_PENALTY * went_wrong
    )
    gap_days = 2 + rng.exponential(8 + 30 * (1 - loyalty))
    placed = batch["placed_at"].to_numpy()
    after = np.where(batch["cancelled"], placed, batch["delivered_at"])
    upcoming = thin_by_season(
        rng, after + (gap_days * DAY).astype(np.int64), gap_days, config, weights
    )
    hour = rng.choice(24, size, p=HOUR_WEIGHTS) * HOUR + rng.integers(0, HOUR, size)
    upcoming = upcoming - upcoming % DAY + hour
    return np.where(again, np.maximum(upcoming, placed + DAY), np.inf)


def _sigmoid(value: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-value))


def simulate_orders(
    rng: np.random.Generator,
    config: SimulationConfig,
    weights: np.ndarray,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    clock: BusinessClock,
    team: SupportTeam,
) -> OrderHistory:
    """Run order rounds until no customer has another order inside the range."""
    count = len(customers)
    signup = customers["created_at"].to_numpy()
    loyalty = customers["loyalty"].to_numpy()
    domestic = (customers["country"] == "DE").to_numpy()
    far = (customers["country"] == "US").to_numpy()
    will_order = rng.random(count) < 0.72
    soon = rng.random(count) < 0.6  # most new customers buy in their signup session
    first_delay = np.where(soon, rng.uniform(300, 2400, count), rng.exponential(6 * DAY, count))
    returning = signup < config.start_ts
    returning_at = config.start_ts + rng.exponential(RETURNING_FIRST_ORDER_DAYS * DAY, count)
    next_at = np.where(will_order, np.where(returning, returning_at, signup + first_delay), np.inf)
    mood = np.zeros(count)
    history = OrderHistory()
    next_key = 0
    for _ in range(MAX_ORDER_ROUNDS):
        who = np.flatnonzero(next_at < config.end_ts)
        if not len(who):
            break
        batch = pd.DataFrame(
            {
                "order_key": next_key + np.arange(len(who)),
                "customer_index": who,
                "placed_at": next_at[who].astype(np.int64),
            }
        )
        next_key += len(who)
        lines, batch["has_review"] = order_items(rng, len(who), products)
        lines["order_key"] = batch["order_key"].to_numpy()[lines["order_index"].to_numpy()]
        _price(batch, lines, far[who])
        _fulfil(rng, batch, domestic[who], far[who])
        _problems(rng, batch)
        history.tickets.append(_open_tickets(rng, clock, team, batch))
        history.refunds.append(_refunds(rng, batch))
        mood[who] = 0.7 * mood[who] + _experience(batch)
        history.nps.append(_nps(rng, batch, mood[who]))
        next_at[who] = _next_order_at(rng, config, weights, batch, loyalty[who], mood[who])
        history.orders.append(batch)
        history.items.append(lines.drop(columns=["order_index", "is_book"]))
    return history

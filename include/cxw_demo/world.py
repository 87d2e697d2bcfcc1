"""The coherent in-memory world of the demo shop, before any source format is applied.

Customers sign up, order (``order_rounds``), get their parcels (some late, some
damaged), contact support (``ticket_lifecycle``), get refunds and answer surveys. This
module assembles that story: ids in time order, the orders database's state at a
moment (``orders_as_of``), prospects' questions, and every survey answer as first given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxw_demo.business_time import BusinessClock, Holiday, holidays_for
from cxw_demo.calendar_weights import (
    DAY,
    day_weights,
    is_peak,
    sample_times,
)
from cxw_demo.config import SimulationConfig
from cxw_demo.order_rounds import simulate_orders
from cxw_demo.people import make_people, messy_emails
from cxw_demo.support_team import SupportTeam, build_team
from cxw_demo.ticket_lifecycle import simulate_tickets
from cxw_demo.vocabulary import BOOK_WORDS_A, BOOK_WORDS_B, REVIEW_SERVICES

HOUR = 3600
ORDER_ID_BASE = 100_000
ORDER_ITEM_ID_BASE = 500_000
REFUND_ID_BASE = 9_000
EXISTING_SHARE = 0.35


@dataclass
class World:
    """Everything that happened in the shop between ``config.start`` and ``config.end``."""

    config: SimulationConfig
    customers: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    order_items: pd.DataFrame
    refunds: pd.DataFrame
    tickets: pd.DataFrame
    survey_answers: pd.DataFrame
    prospects: pd.DataFrame
    team: SupportTeam
    clock: BusinessClock
    holidays: list[Holiday]


def stream(config: SimulationConfig, name: str) -> np.random.Generator:
    """An independent random stream per purpose, so one module's draws never shift another's."""
    return np.random.default_rng([config.seed, *name.encode()])


def build_world(config: SimulationConfig) -> World:
    rng = stream(config, "world")
    holidays = holidays_for(range(config.start.year, config.end.year + 2))
    clock = BusinessClock(config.start_ts - DAY, config.end_ts + 120 * DAY, holidays)
    team = build_team(stream(config, "team"), config.customers)
    weights = day_weights(config)
    customers = _customers(rng, config, weights)
    products = _products(rng, config)
    history = simulate_orders(rng, config, weights, customers, products, clock, team)
    orders, items, refunds = _finish_orders(
        config, history.orders, history.items, history.refunds, customers
    )
    tickets = pd.concat(history.tickets, ignore_index=True)
    nps = pd.concat(history.nps, ignore_index=True)
    prospects = make_people(rng, int(config.customers * 1.5) + 5, 10_000_000)
    tickets = _add_prospect_tickets(rng, config, weights, tickets, prospects, clock, team)
    tickets = _finish_tickets(config, tickets, customers, orders)
    answers = _survey_answers(rng, config, customers, tickets, nps)
    return World(
        config=config,
        customers=customers,
        products=products,
        orders=orders,
        order_items=items,
        refunds=refunds,
        tickets=tickets,
        survey_answers=answers,
        prospects=prospects,
        team=team,
        clock=clock,
        holidays=holidays,
    )


def _customers(
    rng: np.random.Generator, config: SimulationConfig, weights: np.ndarray
) -> pd.DataFrame:
    count = config.customers
    people = make_people(rng, count, 1)
    people.insert(0, "id", np.arange(1, count + 1))
    # A third of the customers signed up in the year before the range: the shop is not new.
    existing = rng.random(count) < EXISTING_SHARE
    earlier = config.start_ts - rng.integers(DAY, 365 * DAY, count)
    created = np.sort(np.where(existing, earlier, sample_times(rng, count, config, weights)))
    people["created_at"] = created
    people["email"] = messy_emails(rng, people["clean_email"].to_numpy())
    people["helpdesk_email"] = messy_emails(rng, people["clean_email"].to_numpy())
    opt_in = rng.random(count) < 0.55
    changed = rng.random(count) < 0.1
    change_at = created + (rng.random(count) * (config.end_ts - created)).astype(np.int64)
    people["opt_in_at_signup"] = opt_in
    people["marketing_opt_in"] = np.where(changed, ~opt_in, opt_in)
    people["updated_at"] = np.where(changed, change_at, created)
    people["loyalty"] = rng.beta(2.0, 2.0, count)
    people["devices"] = 1 + (rng.random(count) < 0.35)
    return people


def _products(rng: np.random.Generator, config: SimulationConfig) -> pd.DataFrame:
    titles = [f"The {a} {b}" for a in BOOK_WORDS_A for b in BOOK_WORDS_B]
    order = rng.permutation(len(titles))[:60]
    books = pd.DataFrame(
        {
            "title": np.array(titles, dtype=object)[order],
            "category": "books",
            "price_cents": rng.choice(np.arange(999, 3999, 100), len(order)),
        }
    )
    reviews = pd.DataFrame(
        {
            "title": [title for title, _ in REVIEW_SERVICES],
            "category": "reviews",
            "price_cents": [price for _, price in REVIEW_SERVICES],
        }
    )
    products = pd.concat([books, reviews], ignore_index=True)
    products.insert(0, "id", np.arange(1, len(products) + 1))
    prefix = np.where(products["category"] == "books", "BK-", "RV-")
    number = products.groupby("category").cumcount() + 1
    products.insert(1, "sku", prefix + number.map("{:04d}".format))
    catalogue_date = config.start_ts - 30 * DAY
    repriced = rng.random(len(products)) < 0.2
    reprice_at = config.start_ts + (rng.random(len(products)) * (config.end_ts - config.start_ts))
    products["updated_at"] = np.where(repriced, reprice_at.astype(np.int64), catalogue_date)
    return products


def _finish_orders(
    config: SimulationConfig,
    order_batches: list[pd.DataFrame],
    item_batches: list[pd.DataFrame],
    refund_batches: list[pd.DataFrame],
    customers: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Order rows as the shop's database holds them at the end of the range."""
    end = config.end_ts
    orders = pd.concat(order_batches, ignore_index=True)
    orders = orders.sort_values(["placed_at", "order_key"], kind="stable").reset_index(drop=True)
    orders.insert(0, "id", ORDER_ID_BASE + 1 + np.arange(len(orders)))
    id_of_key = pd.Series(orders["id"].to_numpy(), index=orders["order_key"].to_numpy())
    orders["customer_id"] = customers["id"].to_numpy()[orders["customer_index"].to_numpy()]

    refunds = pd.concat(refund_batches, ignore_index=True)
    refunds = refunds[refunds["created_at"] < end]
    refunds = refunds.sort_values(["created_at", "order_key"], kind="stable").reset_index(drop=True)
    refunds.insert(0, "id", REFUND_ID_BASE + 1 + np.arange(len(refunds)))
    refunds["order_id"] = id_of_key.loc[refunds["order_key"]].to_numpy()

    orders["shipped_raw"] = orders["shipped_at"]
    orders["delivered_raw"] = orders["delivered_at"]
    orders, refunds = orders_as_of(orders, refunds, end)
    orders["promised_delivery_date"] = orders["promised_day"].to_numpy().astype("datetime64[D]")

    items = pd.concat(item_batches, ignore_index=True)
    items["order_id"] = id_of_key.loc[items["order_key"]].to_numpy()
    items = items.sort_values(["order_id", "product_id"], kind="stable").reset_index(drop=True)
    items.insert(0, "id", ORDER_ITEM_ID_BASE + 1 + np.arange(len(items)))
    placed = orders.set_index("id")["placed_at"]
    items["updated_at"] = placed.loc[items["order_id"]].to_numpy()
    return orders, items, refunds


def orders_as_of(
    orders: pd.DataFrame, refunds: pd.DataFrame, cutoff: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders and refunds as the database held them just before ``cutoff`` (unix).

    Statuses, fulfilment times and ``updated_at`` follow what had happened by then;
    orders placed and refunds made later are not there yet.
    """
    orders = orders[orders["placed_at"] < cutoff].copy()
    refunds = refunds[refunds["created_at"] < cutoff]
    cancelled = orders["cancelled"].to_numpy() & (orders["cancelled_at"].to_numpy() < cutoff)
    shipped = ~cancelled & (orders["shipped_raw"].to_numpy() < cutoff)
    delivered = ~cancelled & (orders["delivered_raw"].to_numpy() < cutoff)
    full_refund = refunds[refunds["is_full"]].groupby("order_id")["created_at"].max()
    refunded_at = orders["id"].map(full_refund).to_numpy(dtype=float)
    paid_at = orders["placed_at"].to_numpy() + 90
    orders["status"] = np.select(
        [~np.isnan(refunded_at), cancelled, delivered, shipped, paid_at < cutoff],
        ["refunded", "cancelled", "delivered", "shipped", "paid"],
        "pending",
    )
    orders["shipped_at"] = np.where(shipped, orders["shipped_raw"], np.nan)
    orders["delivered_at"] = np.where(delivered, orders["delivered_raw"], np.nan)
    last_refund = orders["id"].map(refunds.groupby("order_id")["created_at"].max())
    updated = np.fmax.reduce(
        [
            orders["placed_at"].to_numpy(dtype=float),
            np.where(paid_at < cutoff, paid_at, np.nan),
            orders["shipped_at"].to_numpy(dtype=float),
            orders["delivered_at"].to_numpy(dtype=float),
            np.where(cancelled, orders["cancelled_at"], np.nan),
            last_refund.to_numpy(dtype=float),
        ]
    )
    orders["updated_at"] = updated.astype(np.int64)
    return orders, refunds


def _add_prospect_tickets(
    rng: np.random.Generator,
    config: SimulationConfig,
    weights: np.ndarray,
    tickets: pd.DataFrame,
    prospects: pd.DataFrame,
    clock: BusinessClock,
    team: SupportTeam,
) -> pd.DataFrame:
    """How-to questions from people who never bought anything (not in the orders database)."""
    count = max(1, int(rng.poisson(config.customers * 0.02)))
    created = sample_times(rng, count, config, weights)
    asked = simulate_tickets(
        rng, clock, team, created, np.full(count, "how_to", dtype=object), is_peak(created)
    )
    asked["customer_index"] = -1
    asked["order_key"] = -1
    asked["names_order"] = False
    asked["prospect_index"] = (
        rng.choice(len(prospects), count, replace=False)
        if count <= len(prospects)
        else rng.choice(len(prospects), count)
    )
    tickets = tickets.assign(prospect_index=-1)
    return pd.concat([tickets, asked], ignore_index=True)


def _finish_tickets(
    config: SimulationConfig,
    tickets: pd.DataFrame,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
) -> pd.DataFrame:
    """Keep tickets opened in the range, number them in creation order, attach ids and emails."""
    tickets = tickets[tickets["t_create"] < config.end_ts]
    tickets = tickets.sort_values("t_create", kind="stable").reset_index(drop=True)
    tickets.insert(0, "id", np.arange(1, len(tickets) + 1))
    is_customer = tickets["customer_index"].to_numpy() >= 0
    customer_index = np.where(is_customer, tickets["customer_index"], 0)
    tickets["customer_id"] = np.where(is_customer, customers["id"].to_numpy()[customer_index], 0)
    order_id_of_key = pd.Series(orders["id"].to_numpy(), index=orders["order_key"].to_numpy())
    has_order = tickets["order_key"].to_numpy() >= 0
    tickets["order_id"] = np.where(
        has_order, order_id_of_key.reindex(tickets["order_key"]).fillna(0).to_numpy(), 0
    ).astype(np.int64)
    tickets["order_field"] = np.where(
        has_order & tickets["names_order"], tickets["order_id"].astype(str), ""
    )
    tickets["requester_key"] = np.where(
        is_customer, tickets["customer_index"], len(customers) + tickets["prospect_index"]
    )
    return tickets


def _survey_answers(
    rng: np.random.Generator,
    config: SimulationConfig,
    customers: pd.DataFrame,
    tickets: pd.DataFrame,
    nps: pd.DataFrame,
) -> pd.DataFrame:
    """Each survey answer as first given: NPS after deliveries, CSAT and CES after solves."""
    solved_at = tickets[["t_reply1", "t_reply2", "t_reply3"]].to_numpy()
    first_solve = np.select(
        [tickets["replies"] == 1, tickets["replies"] == 2],
        [solved_at[:, 0], solved_at[:, 1]],
        solved_at[:, 2],
    )
    solved = tickets["resolves"].to_numpy() & (first_solve < config.end_ts)
    count = len(tickets)
    quality = tickets["quality"].to_numpy()
    csat_at = first_solve + 600 + rng.exponential(8 * HOUR, count)
    takes_csat = solved & (rng.random(count) < 0.4)
    takes_ces = takes_csat & (rng.random(count) < 0.7)
    csat = np.clip(np.round(4.0 + 0.9 * quality + rng.normal(0, 0.5, count)), 1, 5)
    ces = np.clip(np.round(5.5 + 1.2 * quality + rng.normal(0, 0.7, count)), 1, 7)
    ticket_part = [
        pd.DataFrame(
            {
                "survey_type": kind,
                "submitted_at": at[chosen],
                "requester_key": tickets["requester_key"].to_numpy()[chosen],
                "customer_id": tickets["customer_id"].to_numpy()[chosen],
                "ticket_id": tickets["id"].to_numpy()[chosen],
                "order_id": np.where(tickets["order_field"] != "", tickets["order_id"], 0)[chosen],
                "score": score[chosen],
                "mood": quality[chosen],
                "was_late": False,
                "support_failed": (
                    tickets["breached"].to_numpy() | ~tickets["resolves"].to_numpy()
                )[chosen],
            }
        )
        for kind, at, chosen, score in (
            ("csat", csat_at, takes_csat, csat),
            ("ces", csat_at + rng.integers(20, 90, count), takes_ces, ces),
        )
    ]
    nps_part = pd.DataFrame(
        {
            "survey_type": "nps",
            "submitted_at": nps["submitted_at"].to_numpy(),
            "requester_key": nps["customer_index"].to_numpy(),
            "customer_id": customers["id"].to_numpy()[nps["customer_index"].to_numpy()],
            "ticket_id": 0,
            "order_id": 0,
            "score": nps["score"].to_numpy(),
            "mood": nps["mood"].to_numpy(),
            "was_late": nps["was_late"].to_numpy(),
            "support_failed": nps["support_failed"].to_numpy(),
        }
    )
    answers = pd.concat([*ticket_part, nps_part], ignore_index=True)
    answers = answers[answers["submitted_at"] < config.end_ts]
    answers["submitted_at"] = answers["submitted_at"].astype(np.int64)
    answers["score"] = answers["score"].astype(np.int64)
    answers = answers.sort_values(["submitted_at", "survey_type", "ticket_id"], kind="stable")
    return answers.reset_index(drop=True)

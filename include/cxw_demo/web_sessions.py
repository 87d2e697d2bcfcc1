"""Who visits the shop's website when: devices, sessions and what happens in each.

Customers browse anonymously before signing up, log in at signup (GA4 ``user_id``
appears), stay logged in on their first device, and buy in sessions whose purchase
is their order. Prospects browse and never log in. The result is one row per
session, which ``ga4`` turns into events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxw_demo.calendar_weights import DAY, HOUR_WEIGHTS, day_weights, sample_times
from cxw_demo.config import SimulationConfig
from cxw_demo.vocabulary import COUNTRIES, DEVICES, TRAFFIC_SOURCES
from cxw_demo.world import World, stream

BROWSE, SIGNUP, PURCHASE = 0, 1, 2
#: Where a session is pinned in time: its start, its login event or its purchase event.
ANCHOR_START, ANCHOR_LOGIN, ANCHOR_PURCHASE = 0, 1, 2
SIGNUP_SESSION_SECONDS = 45 * 60
BROWSE_RATE_PER_DAY = 0.05


def geo_pairs() -> list[tuple[str, str]]:
    """Every (country name, city) the simulator uses, in a fixed order."""
    return [(name, city) for _, name, cities, _ in COUNTRIES for city in cities]


def _geo_index(country_index: np.ndarray, city: np.ndarray) -> np.ndarray:
    lookup = {(name, c): i for i, (name, c) in enumerate(geo_pairs())}
    names = np.array([name for _, name, _, _ in COUNTRIES], dtype=object)[country_index]
    keys = pd.Series(list(zip(names, city, strict=True)))
    return keys.map(lookup).to_numpy(dtype=np.int64)


def build_devices(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """One row per browser (``user_pseudo_id``): customers' first and second devices, prospects'."""
    customers, prospects = world.customers, world.prospects
    second = np.flatnonzero(customers["devices"].to_numpy() > 1)
    person_geo = _geo_index(customers["country_index"].to_numpy(), customers["city"].to_numpy())
    prospect_geo = _geo_index(prospects["country_index"].to_numpy(), prospects["city"].to_numpy())
    count = len(customers) + len(second) + len(prospects)
    weights = np.array([w for *_, w in DEVICES])
    return pd.DataFrame(
        {
            "customer_index": np.concatenate(
                [np.arange(len(customers)), second, np.full(len(prospects), -1)]
            ),
            "device_number": np.concatenate(
                [np.zeros(len(customers)), np.ones(len(second)), np.zeros(len(prospects))]
            ).astype(np.int64),
            "geo": np.concatenate([person_geo, person_geo[second], prospect_geo]),
            "device_profile": rng.choice(len(DEVICES), count, p=weights / weights.sum()),
            "client_number": rng.integers(100_000_000, 2_147_483_647, count),
        }
    )


def build_sessions(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All web sessions in the range, and the devices they ran on."""
    config = world.config
    rng = stream(config, "web")
    devices = build_devices(world, rng)
    customers, orders = world.customers, world.orders
    n = len(customers)
    second_row = np.full(n, -1)
    has_second = devices["device_number"].to_numpy() == 1
    second_row[devices["customer_index"].to_numpy()[has_second]] = np.flatnonzero(has_second)
    signup = customers["created_at"].to_numpy()
    parts: list[pd.DataFrame] = []

    # Anonymous visits before signing up, on the first device.
    before = rng.poisson(1.0, n)
    who = np.repeat(np.arange(n), before)
    at = signup[who] - rng.integers(3600, 21 * DAY, len(who))
    parts.append(_sessions(who, at, BROWSE, ANCHOR_START, customer_id=0, login=False))

    # Orders: the purchase event is the order; a few are lost to ad blockers.
    order_customer = orders["customer_index"].to_numpy()
    placed = orders["placed_at"].to_numpy()
    tracked = rng.random(len(orders)) > 0.04
    first_order = ~pd.Series(order_customer).duplicated().to_numpy()
    at_signup = first_order & (placed - signup[order_customer] < SIGNUP_SESSION_SECONDS)
    on_second = (second_row[order_customer] >= 0) & (rng.random(len(orders)) < 0.35) & ~at_signup
    device_row = np.where(on_second, second_row[order_customer], order_customer)
    purchase = pd.DataFrame(
        {
            "device_row": device_row,
            "anchor_at": placed,
            "kind": PURCHASE,
            "anchor": ANCHOR_PURCHASE,
            "customer_id": customers["id"].to_numpy()[order_customer],
            "login": on_second | at_signup,
            "order_row": np.arange(len(orders)),
        }
    )[tracked]
    parts.append(purchase)

    # Signup sessions, unless the customer bought right away (then that session has the login).
    bought_at_signup = np.zeros(n, dtype=bool)
    bought_at_signup[order_customer[at_signup]] = True
    who = np.flatnonzero(~bought_at_signup)
    parts.append(
        _sessions(who, signup[who], SIGNUP, ANCHOR_LOGIN, customers["id"].to_numpy()[who], True)
    )

    # Browsing after signup: logged in on the first device, anonymous on the second.
    weights = day_weights(config)
    since = np.maximum(signup, config.start_ts)
    active_days = (config.end_ts - since) / DAY
    rate = BROWSE_RATE_PER_DAY * (0.5 + customers["loyalty"].to_numpy())
    candidates = rng.poisson(rate * active_days / (weights.mean() / weights.max()))
    who = np.repeat(np.arange(n), candidates)
    at = since[who] + (rng.random(len(who)) * (config.end_ts - since[who])).astype(np.int64)
    day = np.clip((at - config.start_ts) // DAY, 0, len(weights) - 1)
    keep = rng.random(len(who)) < weights[day] / weights.max()
    who, at = who[keep], at[keep]
    at = (
        at
        - at % DAY
        + rng.choice(24, len(at), p=HOUR_WEIGHTS) * 3600
        + rng.integers(0, 3600, len(at))
    )
    use_second = (second_row[who] >= 0) & (rng.random(len(who)) < 0.4)
    row = np.where(use_second, second_row[who], who)
    logged_in = pd.DataFrame(
        {
            "device_row": row,
            "anchor_at": at,
            "kind": BROWSE,
            "anchor": ANCHOR_START,
            "customer_id": np.where(use_second, 0, customers["id"].to_numpy()[who]),
            "login": False,
            "order_row": -1,
        }
    )
    parts.append(logged_in)

    # Prospects: a visit or a few, never logged in.
    prospect_rows = np.flatnonzero(devices["customer_index"].to_numpy() < 0)
    visits = 1 + rng.poisson(0.4, len(prospect_rows))
    rows = np.repeat(prospect_rows, visits)
    first = sample_times(rng, len(prospect_rows), config, weights)
    at = np.repeat(first, visits) + (
        (np.arange(len(rows)) - np.repeat(np.cumsum(visits) - visits, visits))
        * rng.integers(3600, 14 * DAY, len(rows))
    )
    parts.append(_sessions(rows, at, BROWSE, ANCHOR_START, customer_id=0, login=False))

    if config.spike_day is not None:
        parts.append(_sale_visits(config, parts, len(devices)))
    sessions = pd.concat(parts, ignore_index=True)
    sessions = sessions.sort_values(["anchor_at", "device_row"], kind="stable").reset_index(
        drop=True
    )
    count = len(sessions)
    kind = sessions["kind"].to_numpy()
    sessions["product_views"] = np.minimum(
        rng.poisson(np.where(kind == PURCHASE, 2.0, 1.2), count) + (kind == PURCHASE), 5
    )
    sessions["list_pages"] = np.minimum(rng.poisson(1.2, count), 4)
    sessions["add_to_cart"] = (kind == PURCHASE) | (
        (sessions["product_views"] > 0) & (rng.random(count) < 0.15)
    )
    sessions["checkout"] = (kind == PURCHASE) | (
        sessions["add_to_cart"] & (rng.random(count) < 0.3)
    )
    pages = 1 + sessions["list_pages"] + sessions["product_views"]
    sessions["engaged"] = (pages >= 2) | (rng.random(count) < 0.5)
    sessions["engaged_as_int"] = rng.random(count) < 0.3
    source_weights = np.array([w for *_, w in TRAFFIC_SOURCES])
    sessions["source"] = rng.choice(
        len(TRAFFIC_SOURCES), count, p=source_weights / source_weights.sum()
    )
    sessions["landing_page"] = rng.integers(0, 1000, count)
    return sessions, devices


def _sessions(
    device_row: np.ndarray,
    anchor_at: np.ndarray,
    kind: int,
    anchor: int,
    customer_id: np.ndarray | int,
    login: bool,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_row": device_row,
            "anchor_at": anchor_at,
            "kind": kind,
            "anchor": anchor,
            "customer_id": customer_id,
            "login": login,
            "order_row": -1,
        }
    )


def _sale_visits(config: SimulationConfig, parts: list[pd.DataFrame], devices: int) -> pd.DataFrame:
    """A sale day: anonymous browsing on existing browsers, ``spike_factor - 1`` times the
    day's other sessions, at the day's usual hours (its own random stream)."""
    rng = stream(config, "web sale")
    day_start = int(config.start_ts + (config.spike_day - config.start).days * DAY)
    anchors = np.concatenate([part["anchor_at"].to_numpy() for part in parts])
    usual = int(((anchors >= day_start) & (anchors < day_start + DAY)).sum())
    count = max(1, usual) * (config.spike_factor - 1)
    at = day_start + rng.choice(24, count, p=HOUR_WEIGHTS) * 3600 + rng.integers(0, 3600, count)
    return _sessions(rng.integers(0, devices, count), at, BROWSE, ANCHOR_START, 0, False)

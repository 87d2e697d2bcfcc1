"""Writes web sessions as GA4 BigQuery daily export files (sources.md §2).

Events are laid out per session in fixed slots (first_visit, session_start, page
views, product views, login, add_to_cart, begin_checkout, purchase) and serialised
with pyarrow string kernels, one day at a time, so millions of events need no
per-event Python. Values in ``event_params`` carry only their non-null typed field;
``session_engaged`` is an int on some sessions and a string on others, as GA4 sends it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxw_demo.calendar_weights import DAY
from cxw_demo.config import CURRENCY, SHOP_DOMAIN
from cxw_demo.vocabulary import DEVICES, PAGES, TRAFFIC_SOURCES
from cxw_demo.web_sessions import (
    ANCHOR_LOGIN,
    ANCHOR_PURCHASE,
    SIGNUP,
    build_sessions,
    geo_pairs,
)
from cxw_demo.world import World, stream

STREAM_ID = "4178093526"
MAX_LIST_PAGES, MAX_PRODUCT_VIEWS = 4, 5
#: Slot layout of a session's events, in time order.
SLOT_NAMES = (
    ["first_visit", "session_start", "page_view"]
    + ["page_view"] * MAX_LIST_PAGES
    + ["page_view", "view_item"] * MAX_PRODUCT_VIEWS
    + ["login", "add_to_cart", "begin_checkout", "purchase"]
)
FIRST_LIST, FIRST_PRODUCT = 3, 3 + MAX_LIST_PAGES
LOGIN_SLOT = FIRST_PRODUCT + 2 * MAX_PRODUCT_VIEWS
CART_SLOT, CHECKOUT_SLOT, PURCHASE_SLOT = LOGIN_SLOT + 1, LOGIN_SLOT + 2, LOGIN_SLOT + 3
BASE_URL = f"https://www.{SHOP_DOMAIN}"
LATE_SESSION_SHARE = 0.02
LATE_HOURS = 72


def _j(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _slot_mask(sessions: pd.DataFrame, first_visit: np.ndarray) -> np.ndarray:
    count = len(sessions)
    mask = np.zeros((count, len(SLOT_NAMES)), dtype=bool)
    mask[:, 0] = first_visit
    mask[:, 1] = True
    mask[:, 2] = True
    lists = sessions["list_pages"].to_numpy()
    views = sessions["product_views"].to_numpy()
    for i in range(MAX_LIST_PAGES):
        mask[:, FIRST_LIST + i] = lists > i
    for i in range(MAX_PRODUCT_VIEWS):
        mask[:, FIRST_PRODUCT + 2 * i] = views > i
        mask[:, FIRST_PRODUCT + 2 * i + 1] = views > i
    mask[:, LOGIN_SLOT] = sessions["login"].to_numpy()
    mask[:, CART_SLOT] = sessions["add_to_cart"].to_numpy()
    mask[:, CHECKOUT_SLOT] = sessions["checkout"].to_numpy()
    mask[:, PURCHASE_SLOT] = sessions["order_row"].to_numpy() >= 0
    return mask


#: A session's events lie within this of its anchor (at most 25 slots of 90 s each).
SESSION_SPAN_US = 3600 * 1_000_000


def plan_sessions(world: World) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Every web session (sorted by anchor time), the devices they ran on (with the
    cookie's first-visit time), each session's number on its browser and each device's
    first traffic source: one row per session, about a ninth of the events."""
    config = world.config
    sessions, devices = build_sessions(world)
    count = len(sessions)
    # Session numbers count every session of a browser, including ones before the range.
    order = np.lexsort(
        (np.arange(count), sessions["anchor_at"].to_numpy(), sessions["device_row"].to_numpy())
    )
    number = np.empty(count, dtype=np.int64)
    device_sorted = sessions["device_row"].to_numpy()[order]
    starts_group = np.r_[True, device_sorted[1:] != device_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(starts_group, np.arange(count), 0))
    number[order] = np.arange(count) - group_start + 1
    first_source = np.empty(len(devices), dtype=np.int64)
    first_source[device_sorted[starts_group]] = sessions["source"].to_numpy()[order][starts_group]
    # The cookie's second half is the first visit's time, as GA4's client id has it.
    first_seen = np.full(len(devices), config.start_ts, dtype=np.int64)
    first_seen[device_sorted[starts_group]] = sessions["anchor_at"].to_numpy()[order][starts_group]
    return sessions, devices.assign(first_seen=first_seen), number, first_source


def _shard_events(
    world: World,
    sessions: pd.DataFrame,
    first: int,
    number: np.ndarray,
    first_source: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The events of ``sessions`` (rows ``first``.. of the plan), unsorted."""
    count = len(sessions)
    mask = _slot_mask(sessions, number == 1)
    gaps = rng.uniform(5.0, 90.0, mask.shape) * 1e6
    gaps[:, 0:2] = rng.uniform(0, 2000, (count, 2))  # first_visit/session_start: same moment
    gaps[:, 2] = rng.uniform(100_000, 900_000, count)
    gaps = np.where(mask, gaps, 0.0).astype(np.int64)
    offsets = np.cumsum(gaps, axis=1) - gaps[:, :1]
    anchor = sessions["anchor"].to_numpy()
    anchor_slot = np.select(
        [anchor == ANCHOR_LOGIN, anchor == ANCHOR_PURCHASE], [LOGIN_SLOT, PURCHASE_SLOT], 1
    )
    anchor_offset = offsets[np.arange(count), anchor_slot]
    start_us = sessions["anchor_at"].to_numpy().astype(np.int64) * 1_000_000 - anchor_offset
    start_us = np.where(anchor == 0, start_us + rng.integers(0, 1_000_000, count), start_us)
    event_us = start_us[:, None] + offsets

    session_index, slot = np.nonzero(mask)
    timestamp = event_us[session_index, slot]
    customer_id = sessions["customer_id"].to_numpy()[session_index]
    login = sessions["login"].to_numpy()[session_index]
    identified = (customer_id > 0) & (~login | (slot >= LOGIN_SLOT))
    device_row = sessions["device_row"].to_numpy()[session_index]
    product_count = len(world.products)
    book_count = int((world.products["category"] == "books").sum())
    viewed = rng.integers(0, product_count, len(slot))
    viewed = np.where(rng.random(len(slot)) < 0.8, viewed % book_count, viewed)
    events = pd.DataFrame(
        {
            "timestamp": timestamp,
            "slot": slot,
            "session": first + session_index,
            "ga_session_id": start_us[session_index] // 1_000_000,
            "session_number": number[session_index],
            "user_id": np.where(identified, customer_id, 0),
            "device_row": device_row,
            "engaged": sessions["engaged"].to_numpy()[session_index] & (slot >= 2),
            "engaged_as_int": sessions["engaged_as_int"].to_numpy()[session_index],
            "source": sessions["source"].to_numpy()[session_index],
            "first_source": first_source[device_row],
            "order_row": sessions["order_row"].to_numpy()[session_index],
            "product": viewed,
            "landing": sessions["landing_page"].to_numpy()[session_index] % len(PAGES),
            "engagement_msec": (gaps[session_index, slot] // 1000) % 120_000,
            "signup": sessions["kind"].to_numpy()[session_index] == SIGNUP,
        }
    )
    # A product view and its page view show the same product; cart holds the last one seen.
    is_view_item = np.isin(slot, np.arange(FIRST_PRODUCT + 1, LOGIN_SLOT, 2))
    product = events["product"].to_numpy().copy()
    product[np.flatnonzero(is_view_item) - 1] = product[is_view_item]
    events["product"] = product
    # A few sessions reach the export late (up to 72 hours after their day): Google then
    # rewrites that day's table, so an early snapshot of a recent day lacks them.
    late = rng.random(count) < LATE_SESSION_SHARE
    delay = rng.integers(3600, LATE_HOURS * 3600, count) * 1_000_000
    day_end = (timestamp // (DAY * 1_000_000) + 1) * DAY * 1_000_000
    events["arrival"] = np.where(late[session_index], day_end + delay[session_index], timestamp)
    return events


def event_days(
    world: World, plan: tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray] | None = None
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Each day of the range in order (its index, its events sorted by time), generated
    in shards of one day of sessions: memory holds the sessions and about a day of events,
    whatever the length of the range. Each shard draws from its own random stream, so the
    same seed gives the same events."""
    config = world.config
    sessions, _, number, first_source = plan or plan_sessions(world)
    span = SESSION_SPAN_US // 1_000_000
    # Shard j holds the sessions anchored in [edges[j], edges[j + 1]): a pre-range hour,
    # each day, a post-range hour; sessions further out have no event in the range.
    edges = np.r_[
        config.start_ts - span,
        config.start_ts + DAY * np.arange(config.days + 1),
        config.end_ts + span,
    ]
    bounds = np.searchsorted(sessions["anchor_at"].to_numpy(), edges)
    pending = pd.DataFrame()
    next_day = 0
    for shard in range(len(edges) - 1):
        rows = slice(bounds[shard], bounds[shard + 1])
        rng = stream(config, f"ga4 shard {shard}")
        part = _shard_events(
            world, sessions.iloc[rows], rows.start, number[rows], first_source, rng
        )
        pending = pd.concat([pending, part], ignore_index=True) if len(pending) else part
        # Later shards' sessions are anchored at or after edges[shard + 1]: their events
        # start at most a session's span before it.
        last = shard == len(edges) - 2
        ready_us = (edges[shard + 1] - span) * 1_000_000
        while next_day < config.days:
            day_start = (config.start_ts + next_day * DAY) * 1_000_000
            day_end = day_start + DAY * 1_000_000
            if day_end > ready_us and not last:
                break
            timestamp = pending["timestamp"].to_numpy()
            in_day = (timestamp >= day_start) & (timestamp < day_end)
            day = pending[in_day].sort_values(["timestamp", "session", "slot"], kind="stable")
            pending = pending[timestamp >= day_end]
            yield next_day, day.reset_index(drop=True)
            next_day += 1


class _Fragments:
    """JSON pieces that depend only on small lookups (device, geo, source, product, order)."""

    def __init__(self, world: World, devices: pd.DataFrame) -> None:
        self.device = np.array(
            [
                ',"device":{"category":' + _j(category) + ',"mobile_brand_name":null,'
                '"operating_system":' + _j(system) + ',"language":"en-gb",'
                '"web_info":{"browser":' + _j(browser) + ',"browser_version":null}}'
                for category, system, browser, _ in DEVICES
            ],
            dtype=object,
        )
        self.geo = np.array(
            [
                ',"geo":{"country":'
                + _j(country)
                + ',"city":'
                + _j(city)
                + ',"continent":'
                + _j("Americas" if country == "United States" else "Europe")
                + "}"
                for country, city in geo_pairs()
            ],
            dtype=object,
        )
        self.first_touch = np.array(
            [
                ',"traffic_source":{"name":'
                + _j(name)
                + ',"medium":'
                + _j(medium)
                + ',"source":'
                + _j(source)
                + "}"
                for source, medium, name, _ in TRAFFIC_SOURCES
            ],
            dtype=object,
        )
        self.collected = np.array(
            [
                ',"collected_traffic_source":'
                + (
                    "null"
                    if source == "(direct)"
                    else '{"manual_source":'
                    + _j(source)
                    + ',"manual_medium":'
                    + _j(medium)
                    + ',"manual_campaign_name":'
                    + _j(name if not name.startswith("(") else None)
                    + "}"
                )
                for source, medium, name, _ in TRAFFIC_SOURCES
            ],
            dtype=object,
        )
        self.referrer = np.array(
            [
                '{"key":"page_referrer","value":{"string_value":'
                + _j(
                    ""
                    if source == "(direct)"
                    else f"https://{source if '.' in source else source + '.com'}/"
                )
                + "}}"
                for source, _, _, _ in TRAFFIC_SOURCES
            ],
            dtype=object,
        )
        products = world.products
        self.product_item = np.array(
            [
                '{"item_id":'
                + _j(sku)
                + ',"item_name":'
                + _j(title)
                + ',"item_category":'
                + _j(category)
                + f',"price":{cents / 100:.2f}'
                for sku, title, category, cents in zip(
                    products["sku"],
                    products["title"],
                    products["category"],
                    products["price_cents"],
                    strict=True,
                )
            ],
            dtype=object,
        )
        self.product_page = np.array(
            [
                '{"key":"page_location","value":{"string_value":'
                + _j(f"{BASE_URL}/{'books' if category == 'books' else 'reviews'}/{sku.lower()}")
                + '}},{"key":"page_title","value":{"string_value":'
                + _j(title)
                + "}}"
                for sku, title, category in zip(
                    products["sku"], products["title"], products["category"], strict=True
                )
            ],
            dtype=object,
        )
        self.site_page = np.array(
            [
                '{"key":"page_location","value":{"string_value":'
                + _j(BASE_URL + path)
                + '}},{"key":"page_title","value":{"string_value":'
                + _j(title)
                + "}}"
                for path, title in PAGES
            ],
            dtype=object,
        )
        self.checkout_page = (
            '{"key":"page_location","value":{"string_value":'
            + _j(BASE_URL + "/checkout")
            + '}},{"key":"page_title","value":{"string_value":"Checkout"}}'
        )
        # Per device row: where it is and which browser it is (no DataFrame attrs: pandas
        # deep-copies those on every column read).
        self.device_geo = devices["geo"].to_numpy()
        self.device_profile = devices["device_profile"].to_numpy()
        # The per-device and per-order texts are made for a day's rows when it needs
        # them: held for every browser and order they took ~2 KiB a customer.
        self.client_number = devices["client_number"].to_numpy()
        self.first_seen = devices["first_seen"].to_numpy()
        items = world.order_items  # sorted by order id: each order's items are a run
        self.item_product = items["product_id"].to_numpy() - 1
        self.item_quantity = items["quantity"].to_numpy()
        order_ids = world.orders["id"].to_numpy()
        self.order_id = order_ids
        self.order_total = world.orders["total_cents"].to_numpy()
        item_order = items["order_id"].to_numpy()
        self.items_from = np.searchsorted(item_order, order_ids, side="left")
        self.items_to = np.searchsorted(item_order, order_ids, side="right")

    def pseudo_id(self, device_row: np.ndarray) -> np.ndarray:
        """The ``user_pseudo_id`` of each device row: client number and first visit."""
        return (
            pd.Series(self.client_number[device_row]).astype(str)
            + "."
            + pd.Series(self.first_seen[device_row]).astype(str)
        ).to_numpy(dtype=object)

    def orders(self, order_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per order row, its ``items`` JSON and its ``ecommerce`` JSON."""
        unique, inverse = np.unique(order_row, return_inverse=True)
        items, ecommerce = [], []
        for row in unique.tolist():
            first, last = int(self.items_from[row]), int(self.items_to[row])
            products = self.item_product[first:last].tolist()
            quantities = self.item_quantity[first:last].tolist()
            items.append(
                "["
                + ",".join(
                    f'{self.product_item[product]},"quantity":{quantity}}}'
                    for product, quantity in zip(products, quantities, strict=True)
                )
                + "]"
            )
            ecommerce.append(
                f',"ecommerce":{{"total_item_quantity":{sum(quantities)}'
                f',"purchase_revenue":{self.order_total[row] / 100:.2f}'
                f',"unique_items":{last - first}'
                f',"transaction_id":"{self.order_id[row]}"}}'
            )
        as_array = np.empty(len(unique), dtype=object)
        as_array[:] = items
        items_array = as_array[inverse]
        as_array = np.empty(len(unique), dtype=object)
        as_array[:] = ecommerce
        return items_array, as_array[inverse]


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.large_string())


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.large_string())


LINES_SLICE = 50_000  # events turned into JSON lines at a time


def _lines(day: pd.DataFrame, fragments: _Fragments, date: str) -> bytes:
    """The newline-terminated JSON lines of one day's events."""
    slot = day["slot"].to_numpy()
    names = np.array(SLOT_NAMES, dtype=object)[slot]
    is_product = (slot >= FIRST_PRODUCT) & (slot < LOGIN_SLOT)
    is_commerce = slot >= CART_SLOT
    order_row = day["order_row"].to_numpy()
    has_order = order_row >= 0
    safe_order = np.where(has_order, order_row, 0)
    order_items, order_ecommerce = fragments.orders(safe_order)
    product = day["product"].to_numpy()
    page = np.where(
        is_product | (slot == CART_SLOT),
        fragments.product_page[product],
        np.where(
            is_commerce, fragments.checkout_page, fragments.site_page[day["landing"].to_numpy()]
        ),
    )
    list_page = (slot >= FIRST_LIST) & (slot < FIRST_PRODUCT)
    page = np.where(list_page, fragments.site_page[(slot - FIRST_LIST + 1) % len(PAGES)], page)
    page_view = names == "page_view"
    referrer = np.where(
        slot == 2,
        fragments.referrer[day["source"].to_numpy()],
        '{"key":"page_referrer","value":{"string_value":"' + BASE_URL + '/"}}',
    )
    engaged = day["engaged"].to_numpy()
    engaged_value = np.where(
        day["engaged_as_int"].to_numpy(), '{"int_value":1}', '{"string_value":"1"}'
    )
    engaged_param = np.where(
        engaged, ',{"key":"session_engaged","value":' + engaged_value + "}", ""
    )
    engagement = np.where(
        slot >= 2,
        ',{"key":"engagement_time_msec","value":{"int_value":'
        + day["engagement_msec"].astype(str).to_numpy()
        + "}}",
        "",
    )
    extra = np.select(
        [names == "login", names == "purchase"],
        [
            ',{"key":"method","value":{"string_value":"email"}}',
            ',{"key":"currency","value":{"string_value":"' + CURRENCY + '"}}',
        ],
        "",
    )
    items = np.where(
        has_order & (slot == PURCHASE_SLOT),
        order_items,
        np.where(
            is_product & (names == "view_item") | (slot == CART_SLOT),
            "[" + fragments.product_item[product] + ',"quantity":1}]',
            "[]",
        ),
    )
    ecommerce = np.where(
        has_order & (slot == PURCHASE_SLOT),
        order_ecommerce,
        ',"ecommerce":null',
    )
    user_id = day["user_id"].to_numpy()
    user_json = np.where(user_id > 0, '"' + user_id.astype(str).astype(object) + '"', "null")
    device_row = day["device_row"].to_numpy()
    pieces = [
        '{"event_date":"' + date + '","event_timestamp":',
        _ints(day["timestamp"].to_numpy()),
        ',"event_name":"',
        _strings(names),
        '","event_params":[{"key":"ga_session_id","value":{"int_value":',
        _ints(day["ga_session_id"].to_numpy()),
        '}},{"key":"ga_session_number","value":{"int_value":',
        _ints(day["session_number"].to_numpy()),
        "}},",
        _strings(page.astype(object)),
        _strings(np.where(page_view, "," + referrer, "").astype(object)),
        _strings(engaged_param.astype(object)),
        _strings(engagement.astype(object)),
        _strings(extra.astype(object)),
        '],"user_id":',
        _strings(user_json.astype(object)),
        ',"user_pseudo_id":"',
        _strings(fragments.pseudo_id(device_row)),
        '"',
        _strings(fragments.device[fragments.device_profile[device_row]]),
        _strings(fragments.geo[fragments.device_geo[device_row]]),
        _strings(fragments.first_touch[day["first_source"].to_numpy()]),
        _strings(fragments.collected[day["source"].to_numpy()]),
        _strings(ecommerce.astype(object)),
        ',"items":',
        _strings(items.astype(object)),
        ',"stream_id":"' + STREAM_ID + '","platform":"WEB"}\n',
    ]
    arguments = [
        pa.scalar(piece, pa.large_string()) if isinstance(piece, str) else piece for piece in pieces
    ]
    joined = pc.binary_join_element_wise(*arguments, pa.scalar("", pa.large_string()))
    return _buffer(joined)


def _buffer(array: pa.Array) -> bytes:
    """The concatenated values of a null-free string array, straight from its data buffer."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = array.buffers()[2]
    return data.to_pybytes()[offsets[0] : offsets[-1]]


def write_ga4(
    world: World, folder: Path, compress: bool = False, as_of: int | None = None
) -> dict[str, int]:
    """Write ``events_YYYYMMDD.jsonl[.gz]`` per day into ``folder``; returns counts.
    Each day is written as it is generated (``event_days``), so memory stays bounded.

    With ``as_of`` (unix), the export location as it looked then: only days that had
    ended, and only events that had arrived (the last three days may still grow).
    """
    folder.mkdir(parents=True, exist_ok=True)
    plan = plan_sessions(world)
    devices = plan[1]
    days = world.config.days
    if as_of is not None:
        days = max(0, min(days, (as_of - world.config.start_ts) // DAY))
    fragments = _Fragments(world, devices)
    first_day = world.config.start_ts // DAY
    files = events = purchases = 0
    session_keys: list[np.ndarray] = []
    for index, day in event_days(world, plan) if days else ():
        if index >= days:
            break
        if as_of is not None:
            day = day[day["arrival"].to_numpy() <= as_of * 1_000_000]
        date = np.datetime_as_string(np.datetime64(int(first_day + index), "D")).replace("-", "")
        name = f"events_{date}.jsonl"
        with (folder / (f"{name}.gz" if compress else name)).open("wb") as raw:
            handle = (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=5)
                if compress else raw
            )
            # A busy day (a sale, December) is turned into text a slice of events at a
            # time: its texts took ~1 KiB an event. The lines are the same, so the bytes.
            for first in range(0, len(day), LINES_SLICE):
                handle.write(_lines(day.iloc[first : first + LINES_SLICE], fragments, date))
            handle.close()
        files += 1
        events += len(day)
        purchases += int((day["slot"] == PURCHASE_SLOT).sum())
        # A session is its browser and its id (a session may cross midnight).
        keys = (day["device_row"].to_numpy() << 32) | day["ga_session_id"].to_numpy()
        session_keys.append(np.unique(keys))
    return {
        "files": files,
        "events": events,
        "sessions": len(np.unique(np.concatenate(session_keys))) if session_keys else 0,
        "purchases": purchases,
    }

"""When things happen: seasonality, weekday and hour-of-day patterns, sampled in bulk."""

from __future__ import annotations

import numpy as np

from cxw_demo.config import SimulationConfig

#: Monday..Sunday: weekends browse more on Sunday, buy less on Saturday.
WEEKDAY_FACTOR = np.array([1.0, 1.0, 0.95, 0.95, 0.85, 0.8, 1.15])
#: UTC hour of day (the shop's customers are mostly in Europe): lunch and evening peaks.
HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 8, 9, 8, 7, 7, 8, 9, 11, 12, 12, 10, 7, 4], dtype=float
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()
DAY = 86_400


def day_weights(config: SimulationConfig) -> np.ndarray:
    """Relative activity per day of the range: winter reading, pre-Christmas gifting, weekdays."""
    days = np.arange(
        np.datetime64(config.start, "D"), np.datetime64(config.end, "D") + 1, dtype="datetime64[D]"
    )
    day_of_year = (days - days.astype("datetime64[Y]")).astype(int)
    weekday = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    seasonal = 1.0 + 0.15 * np.cos(2 * np.pi * (day_of_year - 15) / 365.0)
    gifting = np.where((day_of_year >= 327) & (day_of_year <= 356), 0.8, 0.0)
    return (seasonal + gifting) * WEEKDAY_FACTOR[weekday]


def is_peak(ts: np.ndarray) -> np.ndarray:
    """Whether each unix time falls in the pre-Christmas rush (late November to Christmas)."""
    days = (np.asarray(ts, dtype=np.int64) // DAY).astype("datetime64[D]")
    day_of_year = (days - days.astype("datetime64[Y]")).astype(int)
    return (day_of_year >= 327) & (day_of_year <= 358)


def sample_times(
    rng: np.random.Generator, count: int, config: SimulationConfig, weights: np.ndarray
) -> np.ndarray:
    """``count`` unix times in the range, days drawn by ``weights``, hours by ``HOUR_WEIGHTS``."""
    day = rng.choice(len(weights), size=count, p=weights / weights.sum())
    hour = rng.choice(24, size=count, p=HOUR_WEIGHTS)
    second = rng.integers(0, 3600, size=count)
    return config.start_ts + day * DAY + hour * 3600 + second


def thin_by_season(
    rng: np.random.Generator,
    ts: np.ndarray,
    gap_days: np.ndarray,
    config: SimulationConfig,
    weights: np.ndarray,
    rounds: int = 3,
) -> np.ndarray:
    """Push each time on by further gaps, with a chance of staying put that follows the season."""
    ts = ts.astype(np.int64).copy()
    accepted = np.zeros(len(ts), dtype=bool)
    top = weights.max()
    for _ in range(rounds):
        day = np.clip((ts - config.start_ts) // DAY, 0, len(weights) - 1)
        accepted |= rng.random(len(ts)) < weights[day] / top
        push = ~accepted
        ts[push] += (gap_days[push] * DAY * rng.uniform(0.3, 1.0, push.sum())).astype(np.int64)
    return ts

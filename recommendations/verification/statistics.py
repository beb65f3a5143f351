"""The two interval methods verification uses, both free of assumptions about the shape of
durations.

- A bucket bootstrap for ratios (cost per invocation, duration percentiles, init duration):
  hours are resampled with replacement on each side, independently, and the statistic
  recomputed; the interval is the percentiles of after ÷ before − 1. Hours, not single
  invocations, are the unit so bursts of slow or failed calls widen the interval as they
  should.
- Newcombe's hybrid score interval (built from two Wilson intervals) for the difference of two
  proportions (error, timeout, throttle, out-of-memory and cold-start rates). It stays sensible
  with zero events on one side, where the bootstrap and the normal approximation break down.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import TypeVar

Item = TypeVar("Item")


def z_value(confidence: float) -> float:
    """The two-sided normal quantile: 1.96 for 0.95."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def quantile_of_sorted(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile ("type 7") of an already sorted sequence."""
    if not ordered:
        raise ValueError("quantile of nothing")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bootstrap(
    items: Sequence[Item],
    statistics: Callable[[Sequence[Item]], Sequence[float]],
    resamples: int,
    rng: random.Random,
) -> list[list[float]]:
    """``resamples`` replicates of ``statistics`` (a vector) over resampled ``items``.

    Returns one list per statistic; replicates where a statistic is undefined hold NaN.
    """
    replicates: list[list[float]] | None = None
    n = len(items)
    for _ in range(resamples):
        values = statistics(rng.choices(items, k=n))
        if replicates is None:
            replicates = [[] for _ in values]
        for column, value in zip(replicates, values, strict=True):
            column.append(value)
    return replicates or []


def ratio_interval(
    before: Sequence[float], after: Sequence[float], confidence: float
) -> tuple[float, float] | None:
    """Percentile interval of after ÷ before − 1 over paired independent replicates.

    ``None`` when too few replicates are defined on both sides to say anything.
    """
    changes = sorted(
        a / b - 1.0
        for b, a in zip(before, after, strict=True)
        if math.isfinite(a) and math.isfinite(b) and b > 0
    )
    if len(changes) < max(20, len(before) // 2):
        return None
    tail = (1 - confidence) / 2
    return quantile_of_sorted(changes, tail), quantile_of_sorted(changes, 1 - tail)


def wilson_interval(events: int, trials: int, z: float) -> tuple[float, float]:
    """Wilson's score interval for a proportion; (0, 1) for no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = events / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(
    before_events: int, before_trials: int, after_events: int, after_trials: int, z: float
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for after rate − before rate."""
    p1 = before_events / before_trials
    p2 = after_events / after_trials
    l1, u1 = wilson_interval(before_events, before_trials, z)
    l2, u2 = wilson_interval(after_events, after_trials, z)
    difference = p2 - p1
    low = difference - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = difference + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return low, high

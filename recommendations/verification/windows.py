"""Which windows to compare: when a verification is due, and the before window that matches
the after window's hours.

Traffic with a daily cycle is slower or faster at busy hours (cold starts, a loaded
database), so comparing a night after the change with a day before it would measure the
clock, not the change. The matched before window is the after window moved back by whole
weeks, far enough to end before the change: the same hours of the week, the same mix.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from recommendations.snapshot import Frozen
from recommendations.verification.observations import HourlyBucket, span, total_invocations

# The defaults callers schedule with: verify once 24 h and 200 invocations have passed, and
# give up waiting (inconclusive) after 7 days.
MIN_INVOCATIONS = 200
MIN_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=7)
WEEK = timedelta(days=7)
# Hour-of-day means varying by more than this (coefficient of variation) is a daily cycle.
DAILY_CYCLE_CV = 0.25


class Window(Frozen):
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def is_due(
    applied_at: datetime,
    now: datetime,
    invocations_since: int,
    *,
    min_invocations: int = MIN_INVOCATIONS,
    min_window: timedelta = MIN_WINDOW,
    max_window: timedelta = MAX_WINDOW,
) -> bool:
    """Whether to verify now: enough time and traffic, or the longest wait is over."""
    waited = now - applied_at
    if waited >= max_window:
        return True
    return waited >= min_window and invocations_since >= min_invocations


def has_daily_cycle(buckets: Sequence[HourlyBucket], threshold: float = DAILY_CYCLE_CV) -> bool:
    """Whether invocations per hour follow the clock (needs at least a day of buckets)."""
    if span(buckets) < timedelta(hours=24):
        return False
    by_hour: dict[int, list[int]] = {}
    for bucket in buckets:
        by_hour.setdefault(bucket.start.hour, []).append(bucket.invocations)
    means = [statistics.fmean(counts) for counts in by_hour.values()]
    overall = statistics.fmean(means)
    if len(means) < 2 or overall <= 0:
        return False
    return statistics.pstdev(means) / overall > threshold


def matched_before_window(after: Window, changed_at: datetime, daily_cycle: bool) -> Window:
    """The before window to compare ``after`` with.

    With a daily cycle: ``after`` moved back by the fewest whole weeks that end it at or
    before the change (same hours of the week). Without: the same length just before the
    change. Windows longer than a week cannot be matched hour for hour and fall back to the
    latter.
    """
    length = after.length
    if not daily_cycle or length > WEEK:
        return Window(start=changed_at - length, end=changed_at)
    weeks = max(1, math.ceil((after.end - changed_at) / WEEK))
    shift = weeks * WEEK
    return Window(start=after.start - shift, end=after.end - shift)


def in_window(buckets: Sequence[HourlyBucket], window: Window) -> list[HourlyBucket]:
    return [b for b in buckets if window.contains(b.start)]


def common_hours_of_week(
    before: Sequence[HourlyBucket], after: Sequence[HourlyBucket]
) -> tuple[list[HourlyBucket], list[HourlyBucket]]:
    """Both sides kept to the hours of the week both have traffic in (a gap on one side, such
    as a missing day of metrics, drops the same hours on the other)."""
    shared = {b.hour_of_week for b in before if b.invocations} & {
        b.hour_of_week for b in after if b.invocations
    }
    return (
        [b for b in before if b.hour_of_week in shared],
        [b for b in after if b.hour_of_week in shared],
    )


def enough_traffic(
    buckets: Sequence[HourlyBucket],
    min_invocations: int = MIN_INVOCATIONS,
    min_window: timedelta = MIN_WINDOW,
) -> bool:
    return total_invocations(buckets) >= min_invocations and span(buckets) >= min_window

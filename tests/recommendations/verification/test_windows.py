"""Matched windows, the daily-cycle test and when a verification is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recommendations.snapshot import Architecture
from recommendations.verification.observations import HourlyBucket
from recommendations.verification.windows import (
    MAX_WINDOW,
    MIN_WINDOW,
    Window,
    common_hours_of_week,
    has_daily_cycle,
    is_due,
    matched_before_window,
)

CHANGED = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # a Wednesday afternoon


def _buckets(start: datetime, counts: list[int]) -> list[HourlyBucket]:
    return [
        HourlyBucket(
            start=start + timedelta(hours=i),
            memory_mb=512,
            architecture=Architecture.X86_64,
            invocations=count,
            billed_duration_ms_total=100.0 * count,
        )
        for i, count in enumerate(counts)
    ]


def test_with_a_daily_cycle_the_before_window_has_the_same_hours_of_the_week() -> None:
    after = Window(start=CHANGED, end=CHANGED + timedelta(hours=36))
    before = matched_before_window(after, CHANGED, daily_cycle=True)
    assert before.end <= CHANGED
    assert before.start == after.start - timedelta(days=7)
    assert before.start.weekday() == after.start.weekday()
    assert before.length == after.length


def test_a_week_long_window_moves_back_two_weeks_if_it_must() -> None:
    after = Window(start=CHANGED + timedelta(days=1), end=CHANGED + timedelta(days=8))
    before = matched_before_window(after, CHANGED, daily_cycle=True)
    assert before.end <= CHANGED
    assert after.start - before.start == timedelta(days=14)


def test_without_a_cycle_the_before_window_ends_at_the_change() -> None:
    after = Window(start=CHANGED, end=CHANGED + timedelta(hours=24))
    before = matched_before_window(after, CHANGED, daily_cycle=False)
    assert (before.start, before.end) == (CHANGED - timedelta(hours=24), CHANGED)


def test_daily_cycle_is_detected_only_when_traffic_follows_the_clock() -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    cycled = [10 if 8 <= (i % 24) < 20 else 1 for i in range(48)]
    assert has_daily_cycle(_buckets(start, cycled))
    assert not has_daily_cycle(_buckets(start, [10] * 48))
    assert not has_daily_cycle(_buckets(start, cycled[:12]))


def test_common_hours_of_week_drops_a_gap_on_either_side() -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    before = _buckets(start, [5] * 24)
    after = _buckets(start + timedelta(days=7), [5] * 12 + [0] * 12)
    kept_before, kept_after = common_hours_of_week(before, after)
    assert len(kept_before) == 12
    assert {b.hour_of_week for b in kept_after} == {b.hour_of_week for b in kept_before}


def test_due_after_a_day_and_enough_traffic_or_after_the_longest_wait() -> None:
    assert not is_due(CHANGED, CHANGED + timedelta(hours=23), 10_000)
    assert not is_due(CHANGED, CHANGED + MIN_WINDOW, 199)
    assert is_due(CHANGED, CHANGED + MIN_WINDOW, 200)
    assert is_due(CHANGED, CHANGED + MAX_WINDOW, 0)

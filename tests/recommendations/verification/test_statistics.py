"""The interval methods against published figures, and the bootstrap's determinism."""

from __future__ import annotations

import random

import pytest

from recommendations.verification.statistics import (
    bootstrap,
    difference_interval,
    ratio_interval,
    wilson_interval,
    z_value,
)


def test_wilson_interval_matches_newcombe_1998() -> None:
    low, high = wilson_interval(81, 263, z_value(0.95))
    assert (low, high) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_difference_interval_matches_newcombe_1998_method_10() -> None:
    low, high = difference_interval(48, 80, 56, 70, z_value(0.95))
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_difference_interval_with_no_events_before_stays_finite() -> None:
    low, high = difference_interval(0, 1000, 5, 1000, z_value(0.95))
    assert low < 0.005 < high


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    def mean(items: list[float]) -> list[float]:
        return [sum(items) / len(items)]

    items = [float(i) for i in range(50)]
    first = bootstrap(items, mean, 100, random.Random(3))
    again = bootstrap(items, mean, 100, random.Random(3))
    assert first == again
    assert first != bootstrap(items, mean, 100, random.Random(4))


def test_ratio_interval_brackets_the_true_ratio() -> None:
    before = [10.0 + 0.1 * (i % 7) for i in range(200)]
    after = [1.2 * value for value in reversed(before)]
    low, high = ratio_interval(before, after, 0.95) or (0.0, 0.0)
    assert low < 0.2 < high

"""The simulator physics against values computed by hand from the design's formula."""

from __future__ import annotations

import math

import pytest

from recommendations.snapshot import Architecture
from recommendations.tuning.objective import Objective, Strategy
from recommendations.tuning.physics import (
    cost_for_duration,
    expected_cost_usd,
    expected_duration_ms,
    minimum_memory_mb,
    outlier_multiplier,
    regret,
    true_optimum,
)
from recommendations.tuning.profile import SimulationProfile

X86 = Architecture.X86_64
ARM = Architecture.ARM64

PROFILE = SimulationProfile(
    cpu_ms=1000,
    parallel_fraction=0.5,
    io_ms=100,
    memory_used_mb=256,
    gc_factor=1.0,
    arm_speed=1.25,
)


def test_duration_at_one_vcpu() -> None:
    # v = 1: 100 + 1000 × (0.5 + 0.5) × (1 + (256/1769)²)
    assert expected_duration_ms(PROFILE, 1769, X86) == pytest.approx(1120.9422946090272)


def test_duration_at_two_vcpus_only_the_parallel_share_speeds_up() -> None:
    # v = 2: 100 + 1000 × (0.5/1 + 0.5/2) × (1 + (256/3538)²)
    assert expected_duration_ms(PROFILE, 3538, X86) == pytest.approx(853.9266802391927)


def test_duration_below_one_vcpu_and_on_arm64() -> None:
    # v = 1024/1769: 100 + 1000/1.25 × (0.5/v + 0.5/v) × (1 + (256/1024)²)
    assert expected_duration_ms(PROFILE, 1024, ARM) == pytest.approx(1568.4082031250002)


def test_cost_of_one_second_at_one_gigabyte() -> None:
    assert cost_for_duration(1000, 1024, X86) == pytest.approx(0.0000166667 + 0.0000002)
    assert cost_for_duration(1000, 1024, ARM) == pytest.approx(0.0000133334 + 0.0000002)


def test_expected_cost_includes_outliers() -> None:
    noisy = PROFILE.model_copy(update={"outlier_rate": 0.1, "outlier_factor": 5.0})
    assert outlier_multiplier(noisy) == pytest.approx(1.4)
    duration = expected_duration_ms(noisy, 1769, X86) * 1.4
    assert expected_cost_usd(noisy, 1769, X86) == pytest.approx(
        duration / 1000 * 1769 / 1024 * 0.0000166667 + 0.0000002
    )


@pytest.mark.parametrize(("used", "floor"), [(1000, 1100), (116, 128), (117, 129), (90, 128)])
def test_ten_percent_headroom(used: int, floor: int) -> None:
    assert minimum_memory_mb(used) == floor


def test_io_bound_optimum_is_the_floor_on_arm64() -> None:
    profile = SimulationProfile(cpu_ms=0, io_ms=200, memory_used_mb=200)
    best = true_optimum(profile)
    assert best is not None
    assert (best.memory_mb, best.architecture) == (220, ARM)


def test_without_arm_support_the_optimum_stays_on_x86() -> None:
    profile = SimulationProfile(cpu_ms=0, io_ms=200, memory_used_mb=200, supports_arm=False)
    best = true_optimum(profile)
    assert best is not None
    assert (best.memory_mb, best.architecture) == (220, X86)


def test_memory_pressure_makes_one_vcpu_cheapest() -> None:
    # io = 0, p = 0: cost ∝ 1769 × (1 + g(mu/m)²) falls until one vCPU, then rises with m.
    profile = SimulationProfile(cpu_ms=500, memory_used_mb=800, gc_factor=2.0)
    best = true_optimum(profile, architectures=[X86])
    assert best is not None
    assert best.memory_mb == 1769


def test_speed_ties_go_to_the_cheaper_configuration() -> None:
    # Serial work stops speeding up at one vCPU; everything above is equally fast.
    profile = SimulationProfile(cpu_ms=500, memory_used_mb=100)
    best = true_optimum(profile, Objective(strategy=Strategy.SPEED), [X86])
    assert best is not None
    assert best.memory_mb == 1769


def test_regret_is_relative_to_the_optimum() -> None:
    profile = SimulationProfile(cpu_ms=0, io_ms=200, memory_used_mb=200, supports_arm=False)
    assert regret(profile, 220, X86) == 0
    expected = expected_cost_usd(profile, 440, X86) / expected_cost_usd(profile, 220, X86) - 1
    assert regret(profile, 440, X86) == pytest.approx(expected)
    assert math.isinf(regret(profile, 220, ARM))

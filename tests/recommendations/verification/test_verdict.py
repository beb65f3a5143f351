"""The verdict on simulated traffic: false alarms, power, skewed noise, traffic shifts and the
inconclusive cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommendations.snapshot import Architecture
from recommendations.tuning.profile import SimulationProfile
from recommendations.verification.observations import HourlyBucket
from recommendations.verification.simulate import predict, simulate_verification
from recommendations.verification.traffic import TrafficGenerator
from recommendations.verification.verdict import (
    InconclusiveReason,
    Metric,
    Verdict,
    VerificationSettings,
    verify,
)

X86 = Architecture.X86_64
NOISY = SimulationProfile(
    cpu_ms=300, io_ms=80, memory_used_mb=150, init_ms=350, noise_cv=0.35, gc_factor=0.5,
    memory_mb=512,
)  # fmt: skip
# Heavily skewed: log-normal noise with cv 1 and 3 % of calls four times slower.
SKEWED = SimulationProfile(
    cpu_ms=100, io_ms=150, memory_used_mb=120, init_ms=500, noise_cv=1.0, outlier_rate=0.03,
    outlier_factor=4.0, memory_mb=1024,
)  # fmt: skip
IO_BOUND = SimulationProfile(cpu_ms=20, io_ms=250, memory_used_mb=70, noise_cv=0.1, memory_mb=1024)
SEEDS = range(40)


def _unchanged_verdicts(
    profile: SimulationProfile, seeds: range = SEEDS, **options: object
) -> list[Verdict]:
    config = (profile.memory_mb, X86)
    return [
        simulate_verification(profile, config, config, 400, seed, **options).verdict  # type: ignore[arg-type]
        for seed in seeds
    ]


def test_an_unchanged_noisy_function_is_never_called_a_regression() -> None:
    verdicts = _unchanged_verdicts(NOISY)
    allowed = {Verdict.NO_EFFECT, Verdict.INCONCLUSIVE}
    assert sum(v in allowed for v in verdicts) >= 0.95 * len(verdicts)
    assert verdicts.count(Verdict.REGRESSION) <= 0.05 * len(verdicts)


def test_skewed_noise_and_a_traffic_shift_raise_no_false_alarm() -> None:
    # Three times the traffic after the change, with and without a daily cycle.
    # 40 seeds in all, split between the two kinds of shift.
    shifted = _unchanged_verdicts(SKEWED, range(20), after_invocations=1200)
    flat = _unchanged_verdicts(SKEWED, range(20, 40), daily_cycle=False, after_invocations=250)
    verdicts = shifted + flat
    assert verdicts.count(Verdict.REGRESSION) <= 2
    assert sum(v is Verdict.NO_EFFECT for v in verdicts) >= 38


@pytest.mark.parametrize("profile", [NOISY, SKEWED], ids=["noisy", "skewed"])
def test_a_20_percent_p99_regression_is_caught(profile: SimulationProfile) -> None:
    config = (profile.memory_mb, X86)
    caught = [
        simulate_verification(profile, config, config, 2000, seed, slowdown=1.2)
        for seed in range(3)
    ]
    assert all(v.verdict is Verdict.REGRESSION for v in caught)
    # Heavy tails make p99 itself the noisiest figure: its interval is wide, but it is there.
    p99 = [v.metrics[Metric.P99] for v in caught]
    assert all(c.ci_low_pct is not None and c.ci_high_pct is not None for c in p99)
    assert (
        sum(c.ci_low_pct < 20 < c.ci_high_pct for c in p99 if c.ci_low_pct and c.ci_high_pct) >= 2
    )


def test_a_10_percent_saving_is_verified_with_an_interval_around_it() -> None:
    before, after = (1024, X86), (922, X86)  # io-bound: same duration, 10 % less memory
    for seed in range(5):
        verification = simulate_verification(IO_BOUND, before, after, 600, seed)
        assert verification.verdict is Verdict.VERIFIED
        cost = verification.metrics[Metric.COST_PER_INVOCATION]
        predicted = predict(IO_BOUND, before, after).cost_change_pct
        assert predicted == pytest.approx(-8.4, abs=0.5)
        assert (cost.ci_low_pct or 0) - 0.5 < predicted < (cost.ci_high_pct or 0) + 0.5
        assert Metric.COST_PER_INVOCATION in verification.improvements


def test_a_memory_cut_below_peak_use_is_an_out_of_memory_regression() -> None:
    profile_oom = IO_BOUND.model_copy(update={"memory_used_mb": 200})
    verification = simulate_verification(profile_oom, (1024, X86), (128, X86), 600, 1)
    assert verification.verdict is Verdict.REGRESSION
    assert Metric.OOM_RATE in verification.regressions
    assert Metric.ERROR_RATE in verification.regressions


def _day(profile: SimulationProfile, invocations: int, start: datetime) -> list[HourlyBucket]:
    return TrafficGenerator(profile, seed=7).window(1024, X86, invocations, start)


AFTER = datetime(2026, 3, 9, tzinfo=UTC)
BEFORE = AFTER - timedelta(days=7)


def test_too_little_traffic_after_the_change_is_inconclusive() -> None:
    verification = verify(_day(IO_BOUND, 1000, BEFORE), _day(IO_BOUND, 150, AFTER))
    assert verification.verdict is Verdict.INCONCLUSIVE
    assert verification.reason is InconclusiveReason.TOO_LITTLE_TRAFFIC
    assert "after" in verification.summary


def test_a_window_shorter_than_a_day_is_inconclusive() -> None:
    short = [b for b in _day(IO_BOUND, 2000, AFTER) if b.start < AFTER + timedelta(hours=12)]
    verification = verify(_day(IO_BOUND, 1000, BEFORE), short)
    assert verification.reason is InconclusiveReason.TOO_LITTLE_TRAFFIC


def test_no_baseline_is_inconclusive() -> None:
    verification = verify([], _day(IO_BOUND, 1000, AFTER))
    assert verification.verdict is Verdict.INCONCLUSIVE
    assert verification.reason is InconclusiveReason.BASELINE_MISSING


def test_a_function_changed_again_is_inconclusive() -> None:
    after = _day(IO_BOUND, 1000, AFTER)
    moved = [b.model_copy(update={"memory_mb": 2048}) for b in after[12:]]
    verification = verify(_day(IO_BOUND, 1000, BEFORE), after[:12] + moved)
    assert verification.reason is InconclusiveReason.FUNCTION_CHANGED_AGAIN
    other = verify(_day(IO_BOUND, 1000, BEFORE), after, expected_after=(512, X86))
    assert other.reason is InconclusiveReason.FUNCTION_CHANGED_AGAIN


def test_cloudwatch_hourly_percentiles_stand_in_for_raw_durations() -> None:
    def summarised(buckets: list[HourlyBucket], factor: float) -> list[HourlyBucket]:
        return [
            b.model_copy(
                update={
                    "durations_ms": None,
                    "p50_ms": 100.0 * factor,
                    "p90_ms": 150.0 * factor,
                    "p99_ms": 300.0 * factor,
                }
            )
            for b in buckets
        ]

    before = summarised(_day(IO_BOUND, 1000, BEFORE), 1.0)
    after = summarised(_day(IO_BOUND, 1000, AFTER), 1.5)
    verification = verify(before, after)
    assert verification.metrics[Metric.P99].change_pct == pytest.approx(50.0)
    assert Metric.P99 in verification.regressions


def test_thresholds_are_settings() -> None:
    config = (NOISY.memory_mb, X86)
    lenient = VerificationSettings(regression_pct={Metric.P99: 500.0})
    verification = simulate_verification(
        NOISY, config, config, 2000, 0, slowdown=1.2, settings=lenient
    )
    assert Metric.P99 not in verification.regressions

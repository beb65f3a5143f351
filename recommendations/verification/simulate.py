"""A change verified on simulated traffic: a day at the old configuration a week before, a day
at the new one after, both from the simulator's physics (what ``tunebot verify --simulate``
and the benchmarks run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recommendations.snapshot import Architecture, Frozen
from recommendations.tuning.physics import expected_cost_usd, expected_duration_ms
from recommendations.tuning.profile import SimulationProfile
from recommendations.verification.traffic import DEFAULT_COLD_START_RATE, TrafficGenerator
from recommendations.verification.verdict import Verification, VerificationSettings, verify
from recommendations.verification.windows import Window, matched_before_window

# A fixed Monday, so simulated hours of the week (and so every figure) repeat exactly.
SIMULATED_CHANGE_AT = datetime(2026, 3, 2, tzinfo=UTC)
Configuration = tuple[int, Architecture]


class Prediction(Frozen):
    """What the physics expects the change to do (outliers included, warm invocations)."""

    cost_change_pct: float
    duration_change_pct: float


def predict(profile: SimulationProfile, before: Configuration, after: Configuration) -> Prediction:
    cost_before = expected_cost_usd(profile, *before)
    cost_after = expected_cost_usd(profile, *after)
    duration_before = expected_duration_ms(profile, *before)
    duration_after = expected_duration_ms(profile, *after)
    return Prediction(
        cost_change_pct=(cost_after / cost_before - 1) * 100,
        duration_change_pct=(duration_after / duration_before - 1) * 100,
    )


def simulate_verification(
    profile: SimulationProfile,
    before: Configuration,
    after: Configuration,
    invocations: int,
    seed: int = 0,
    *,
    hours: int = 24,
    after_invocations: int | None = None,
    slowdown: float = 1.0,
    daily_cycle: bool = True,
    cold_start_rate: float = DEFAULT_COLD_START_RATE,
    settings: VerificationSettings | None = None,
) -> Verification:
    """Verify a simulated change from ``before`` to ``after``.

    ``invocations`` per window (``after_invocations`` for the after one, to shift traffic);
    ``slowdown`` multiplies every duration after the change.
    """
    generator = TrafficGenerator(profile, seed=seed, cold_start_rate=cold_start_rate)
    after_window = Window(
        start=SIMULATED_CHANGE_AT, end=SIMULATED_CHANGE_AT + timedelta(hours=hours)
    )
    before_window = matched_before_window(after_window, SIMULATED_CHANGE_AT, daily_cycle)
    baseline = generator.window(
        *before, invocations, before_window.start, hours, daily_cycle=daily_cycle
    )
    changed = generator.window(
        *after,
        invocations if after_invocations is None else after_invocations,
        after_window.start,
        hours,
        daily_cycle=daily_cycle,
        first_cold=True,
        slowdown=slowdown,
    )
    base = settings or VerificationSettings()
    return verify(baseline, changed, base.model_copy(update={"seed": seed}), expected_after=after)

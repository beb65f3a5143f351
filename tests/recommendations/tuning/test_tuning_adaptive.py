"""Adaptive search on the simulator with fixed seeds: near-optimal, frugal, resumable."""

from __future__ import annotations

import pytest

from aws.invokers.simulator import SimulatorInvoker
from recommendations.recommendation import Confidence
from recommendations.snapshot import Architecture
from recommendations.tuning.objective import Objective, Strategy
from recommendations.tuning.observation import ErrorKind
from recommendations.tuning.outcome import result
from recommendations.tuning.physics import (
    expected_duration_ms,
    regret,
    true_optimum,
)
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.request import TuningRequest, TuningState
from recommendations.tuning.search import finish, plan, run, start, update

X86 = Architecture.X86_64
ARM = Architecture.ARM64
BOTH = (X86, ARM)

MEMORY_PRESSURE = SimulationProfile(
    cpu_ms=600, io_ms=20, memory_used_mb=700, init_ms=1200, noise_cv=0.08, gc_factor=3.0
)
INTERIOR = SimulationProfile(
    cpu_ms=300, io_ms=80, memory_used_mb=150, init_ms=300, noise_cv=0.1, gc_factor=0.5
)


def _request(profile: SimulationProfile, **overrides: object) -> TuningRequest:
    fields: dict[str, object] = {
        "function_name": "fn",
        "architectures": BOTH,
        "current_memory_mb": profile.memory_mb,
        "seed": 1,
    }
    fields.update(overrides)
    return TuningRequest.model_validate(fields)


@pytest.mark.parametrize(("profile", "seed"), [(MEMORY_PRESSURE, 1), (INTERIOR, 2), (INTERIOR, 3)])
def test_finds_a_near_optimal_configuration(profile: SimulationProfile, seed: int) -> None:
    state = run(start(_request(profile, seed=seed)), SimulatorInvoker(profile, seed=seed))
    outcome = result(state)
    assert outcome.best is not None
    assert regret(profile, outcome.best.memory_mb, outcome.best.architecture, BOTH) < 0.015
    # Power Tuning's default grid would spend 6 values × 20 × 2 architectures = 240.
    assert outcome.invocations <= 80
    # The sequential test passed; "high" also needs 95% of resamples within 1% (calibration).
    assert outcome.stop_reason == "the choice is clear"
    assert outcome.confidence in (Confidence.HIGH, Confidence.MEDIUM)


def test_memory_pressure_case_lands_on_one_vcpu_arm64() -> None:
    state = run(start(_request(MEMORY_PRESSURE)), SimulatorInvoker(MEMORY_PRESSURE, seed=1))
    outcome = result(state)
    optimum = true_optimum(MEMORY_PRESSURE, architectures=BOTH)
    assert optimum is not None
    assert outcome.best is not None
    assert (outcome.best.memory_mb, outcome.best.architecture) == (1769, ARM)
    assert (optimum.memory_mb, optimum.architecture) == (1769, ARM)


def test_out_of_memory_moves_up_and_keeps_headroom() -> None:
    profile = INTERIOR.model_copy(update={"memory_used_mb": 600, "memory_mb": 256})
    state = run(start(_request(profile, architectures=(X86,))), SimulatorInvoker(profile, seed=4))
    outcome = result(state)
    first = state.observations[0]
    assert (first.memory_mb, first.error) == (256, ErrorKind.OUT_OF_MEMORY)
    # One failed invocation at 256 MB is enough; the search carries on above it.
    assert sum(1 for o in state.observations if o.memory_mb == 256) == 1
    assert outcome.best is not None
    assert outcome.best.memory_mb >= 660
    failed = next(r for r in outcome.results if r.memory_mb == 256)
    assert failed.error is ErrorKind.OUT_OF_MEMORY and not failed.feasible
    assert outcome.current is not None and outcome.current.error is ErrorKind.OUT_OF_MEMORY


def test_an_architecture_that_cannot_run_is_ruled_out_cheaply() -> None:
    profile = INTERIOR.model_copy(update={"supports_arm": False})
    state = run(start(_request(profile)), SimulatorInvoker(profile, seed=5))
    outcome = result(state)
    assert sum(1 for o in state.observations if o.architecture is ARM) == 2
    assert outcome.best is not None and outcome.best.architecture is X86
    assert "arm64 was ruled out" in outcome.confidence_statement


def test_cold_invocations_stay_out_of_the_duration_model() -> None:
    profile = INTERIOR.model_copy(update={"init_ms": 5000.0, "noise_cv": 0.0})
    state = run(start(_request(profile, architectures=(X86,))), SimulatorInvoker(profile))
    outcome = result(state)
    cold = [o for o in state.observations if o.cold]
    assert cold and all(o.billed_duration_ms > 5000 for o in cold)
    measured = next(r for r in outcome.results if r.memory_mb == 1024)
    # Without noise every warm duration is the physics' D exactly; cold ones would add 5 s.
    assert measured.duration_ms == pytest.approx(expected_duration_ms(profile, 1024, X86), abs=0.01)
    assert measured.cold_init_ms == pytest.approx(5000.0)
    assert outcome.best is not None
    assert outcome.best.duration_ms is not None and outcome.best.duration_ms < 5000


def test_state_round_trips_through_json_between_every_step() -> None:
    request = _request(INTERIOR, seed=7)
    whole = result(run(start(request), SimulatorInvoker(INTERIOR, seed=7)))

    invoker = SimulatorInvoker(INTERIOR, seed=7)
    saved = start(request).to_json()
    steps = 0
    while probes := plan(TuningState.from_json(saved)):
        state = update(TuningState.from_json(saved), invoker.invoke(probes))
        saved = state.to_json()
        steps += 1
    resumed = result(finish(TuningState.from_json(saved)))
    assert steps >= 2
    assert resumed == whole


def test_speed_strategy_goes_big_for_parallel_work() -> None:
    profile = SimulationProfile(
        cpu_ms=4000, parallel_fraction=0.9, io_ms=30, memory_used_mb=400, noise_cv=0.05
    )
    request = _request(profile, architectures=(X86,), objective=Objective(strategy=Strategy.SPEED))
    outcome = result(run(start(request), SimulatorInvoker(profile, seed=3)))
    assert outcome.best is not None
    assert outcome.best.memory_mb >= 9000


def test_duration_limit_is_respected() -> None:
    request = _request(INTERIOR, architectures=(X86,), objective=Objective(max_duration_ms=400))
    outcome = result(run(start(request), SimulatorInvoker(INTERIOR, seed=2)))
    assert outcome.best is not None
    assert outcome.best.duration_ms is not None and outcome.best.duration_ms <= 400


HEAVY_OUTLIERS = SimulationProfile(
    cpu_ms=250,
    io_ms=40,
    memory_used_mb=200,
    init_ms=300,
    noise_cv=0.1,
    outlier_rate=0.08,
    outlier_factor=6.0,
    gc_factor=0.3,
)


@pytest.mark.parametrize("seed", [8, 9])
def test_outliers_do_not_decide_the_architecture(seed: int) -> None:
    # Same CPU speed on both: arm64 is 20% cheaper whatever the outliers drawn on each.
    state = run(start(_request(HEAVY_OUTLIERS, seed=seed)), SimulatorInvoker(HEAVY_OUTLIERS, seed))
    outcome = result(state)
    assert outcome.best is not None
    assert outcome.best.architecture is ARM
    assert regret(HEAVY_OUTLIERS, outcome.best.memory_mb, ARM, BOTH) < 0.02


def test_timeouts_make_smaller_memories_infeasible() -> None:
    # 2 s of CPU at one vCPU: under 708 MB it takes more than the 5 s timeout.
    profile = SimulationProfile(
        cpu_ms=2000, io_ms=0, memory_used_mb=100, noise_cv=0.02, memory_mb=256, timeout_s=5
    )
    state = run(start(_request(profile, architectures=(X86,))), SimulatorInvoker(profile, seed=2))
    outcome = result(state)
    assert state.observations[0].error is ErrorKind.TIMEOUT
    # Two timeouts (256 and 512 MB) teach it enough: it does not creep up 1 MB at a time.
    assert sum(1 for o in state.observations if o.error is ErrorKind.TIMEOUT) == 2
    assert outcome.best is not None
    assert expected_duration_ms(profile, outcome.best.memory_mb, X86) < 0.9 * 5000
    assert outcome.invocations <= 42


def test_the_functions_timeout_keeps_the_choice_clear_of_it() -> None:
    # Waiting time makes smaller memories cheaper, down to where 2 s of CPU no longer fit in
    # the 6 s timeout (about 670 MB). Knowing the timeout, nothing is wasted on timeouts and
    # the choice stays 10% clear of it.
    profile = SimulationProfile(
        cpu_ms=2000, io_ms=100, memory_used_mb=100, noise_cv=0.02, timeout_s=6
    )
    request = _request(profile, architectures=(X86,), timeout_ms=6000.0)
    state = run(start(request), SimulatorInvoker(profile, seed=1))
    outcome = result(state)
    assert not any(o.error for o in state.observations)
    assert outcome.best is not None
    assert expected_duration_ms(profile, outcome.best.memory_mb, X86) < 0.9 * 6000
    assert outcome.best.memory_mb < 800


def test_high_confidence_needs_nearly_every_resample_within_one_percent() -> None:
    from recommendations.tuning.adaptive import Analysis
    from recommendations.tuning.objective import Candidate

    choice = Candidate(memory_mb=512, architecture=X86, duration_ms=10.0, cost_usd=1e-6)
    settled = Analysis(
        floor_mb=128, memory_used_mb=100, fits={}, infeasible={}, choice=choice, validated=True
    )
    settled.shortfall_quantile = 0.0
    settled.shortfall_high_quantile = 0.005
    assert settled.confidence() is Confidence.HIGH
    settled.shortfall_high_quantile = 0.02  # 80% within 1%, but not 95%: "medium"
    assert settled.confidence() is Confidence.MEDIUM

"""Every strategy near its true optimum on simulated profiles (fixed seeds, loose thresholds).

The true optimum and the regret come from the simulator's physics
(``physics.strategy_regret``), exactly as ``benchmarks/tuning.py`` measures them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aws.invokers.simulator import SimulatorInvoker
from recommendations.snapshot import Architecture
from recommendations.tuning.objective import Objective, Strategy
from recommendations.tuning.outcome import result
from recommendations.tuning.physics import strategy_regret, true_optimum
from recommendations.tuning.profile import SimulationProfile, load_profile
from recommendations.tuning.request import TuningRequest
from recommendations.tuning.result import TuningResult
from recommendations.tuning.search import run, start

PROFILES = Path(__file__).resolve().parents[3] / "benchmarks" / "profiles"
BOTH = (Architecture.X86_64, Architecture.ARM64)
BALANCED = Objective(strategy=Strategy.BALANCED)
SPEED = Objective(strategy=Strategy.SPEED)
WITHIN = Objective(strategy=Strategy.FASTEST_WITHIN, within_percent=10)


def _tune(profile: SimulationProfile, objective: Objective, seed: int) -> TuningResult:
    request = TuningRequest(
        function_name="fn",
        objective=objective,
        architectures=BOTH,
        current_memory_mb=profile.memory_mb,
        current_architecture=profile.architecture,
        timeout_ms=profile.timeout_s * 1000.0,
        seed=seed,
    )
    return result(run(start(request), SimulatorInvoker(profile, seed=seed)))


def _regret(profile: SimulationProfile, objective: Objective, seed: int) -> float:
    outcome = _tune(profile, objective, seed)
    best = outcome.best
    assert best is not None
    return strategy_regret(profile, best.memory_mb, best.architecture, objective, BOTH)


def test_balanced_explores_past_one_vcpu_for_parallel_cpu_heavy_work() -> None:
    """The issue's case: the balanced optimum is ≈ 4.6 GB; the search used to stop at 1.8 GB."""
    profile = load_profile(PROFILES / "parallel-cpu-heavy.json")
    optimum = true_optimum(profile, BALANCED, BOTH)
    assert optimum is not None and 4300 < optimum.memory_mb < 5000
    outcome = _tune(profile, BALANCED, 1)
    best = outcome.best
    assert best is not None and best.memory_mb > 3500
    assert strategy_regret(profile, best.memory_mb, best.architecture, BALANCED, BOTH) < 0.03


@pytest.mark.parametrize(
    ("name", "seed"),
    [("parallel", 1), ("cpu-bound", 2), ("memory-pressure", 3), ("etl-memory-hungry", 1)],
)
def test_balanced_is_near_its_optimum(name: str, seed: int) -> None:
    assert _regret(load_profile(PROFILES / f"{name}.json"), BALANCED, seed) < 0.04


@pytest.mark.parametrize(("name", "seed"), [("parallel", 1), ("io-bound", 2), ("arm64-faster", 3)])
def test_speed_is_near_its_optimum(name: str, seed: int) -> None:
    assert _regret(load_profile(PROFILES / f"{name}.json"), SPEED, seed) < 0.03


@pytest.mark.parametrize(
    ("name", "seed"), [("cpu-bound", 1), ("arm64-faster", 2), ("arm64-incompatible", 3)]
)
def test_fastest_within_is_near_its_optimum(name: str, seed: int) -> None:
    assert _regret(load_profile(PROFILES / f"{name}.json"), WITHIN, seed) < 0.03


@pytest.mark.parametrize("name", ["noisy", "heavy-outliers", "api-mixed", "parallel"])
@pytest.mark.parametrize("seed", [1, 2])
def test_fastest_within_never_costs_more_than_the_bound_over_the_cheapest_measured(
    name: str, seed: int
) -> None:
    outcome = _tune(load_profile(PROFILES / f"{name}.json"), WITHIN, seed)
    best = outcome.best
    measured = [
        r.cost_per_invocation_usd
        for r in outcome.results
        if r.feasible and r.cost_per_invocation_usd is not None
    ]
    assert best is not None and best.cost_per_invocation_usd is not None
    assert best.cost_per_invocation_usd <= 1.10 * min(measured) * (1 + 1e-9)

"""Grid search reproduces AWS Lambda Power Tuning's statistics and choices."""

from __future__ import annotations

import math

import pytest

from recommendations.pricing import prices_for
from recommendations.snapshot import Architecture
from recommendations.tuning.grid import grid_candidates, grid_choice, plan_grid
from recommendations.tuning.objective import DurationStatistic, Objective, Strategy
from recommendations.tuning.observation import ErrorKind, Observation, Probe
from recommendations.tuning.outcome import result
from recommendations.tuning.request import SearchKind, TuningRequest, TuningState
from recommendations.tuning.samples import power_tuning_trimmed_mean

X86 = Architecture.X86_64
PRICES = prices_for("us-east-1")
PER_MS_128 = 0.0000166667 * 128 / 1024 / 1000

# Billed durations per memory; the first of each is the cold start.
BILLED = {
    128: [300, 100, 102, 98, 101],
    256: [200, 52, 50, 51, 49],
    512: [90, 26, 25, 24, 25],
}


def _observations(billed: dict[int, list[int]]) -> tuple[Observation, ...]:
    return tuple(
        Observation(
            memory_mb=memory,
            architecture=X86,
            duration_ms=float(value),
            billed_duration_ms=value,
            init_duration_ms=150.0 if index == 0 else None,
            max_memory_used_mb=60,
        )
        for memory, values in billed.items()
        for index, value in enumerate(values)
    )


def _state(strategy: Strategy = Strategy.COST, weight: float = 0.5) -> TuningState:
    request = TuningRequest(
        function_name="fn",
        search=SearchKind.GRID,
        objective=Objective(strategy=strategy, balanced_weight=weight),
        memory_values=(128, 256, 512),
        num=5,
    )
    return TuningState(request=request, observations=_observations(BILLED))


def test_trimmed_mean_drops_a_fifth_from_each_end() -> None:
    assert power_tuning_trimmed_mean([300, 100, 102, 98, 101]) == 101
    assert power_tuning_trimmed_mean([90, 26, 25, 24, 25]) == pytest.approx(76 / 3)
    # Fewer than five values: int(n × 0.2) is 0, nothing is dropped.
    assert power_tuning_trimmed_mean([10, 20, 60]) == 30
    assert power_tuning_trimmed_mean([]) == 0


def test_prices_are_whole_milliseconds_at_the_memory() -> None:
    measured = {c.memory_mb: c for _, c in grid_candidates(_state(), PRICES)}
    # 128: ceil(101) ms; 256: 51 ms at twice the price; 512: ceil(25.33) = 26 ms at 4×.
    assert measured[128].cost_usd == pytest.approx(101 * PER_MS_128)
    assert measured[256].cost_usd == pytest.approx(51 * 2 * PER_MS_128)
    assert measured[512].cost_usd == pytest.approx(26 * 4 * PER_MS_128)
    assert measured[512].duration_ms == pytest.approx(76 / 3)


@pytest.mark.parametrize(
    ("strategy", "weight", "memory"),
    [
        (Strategy.COST, 0.5, 128),  # 101 < 102 < 104 units
        (Strategy.SPEED, 0.5, 512),
        # balanced: w × cost/max cost + (1 − w) × duration/max duration
        # 128: .5 × 101/104 + .5 × 1 = .986; 256: .490 + .252 = .743; 512: .5 + .125 = .625
        (Strategy.BALANCED, 0.5, 512),
        (Strategy.BALANCED, 1.0, 128),
    ],
)
def test_choice_follows_power_tuning(strategy: Strategy, weight: float, memory: int) -> None:
    choice = grid_choice(_state(strategy, weight), PRICES)
    assert choice is not None
    assert choice.memory_mb == memory


def test_cost_ties_go_to_the_faster() -> None:
    # 128 MB at 100 ms and 256 MB at 50 ms cost the same.
    state = _state().model_copy(
        update={"observations": _observations({128: [100] * 5, 256: [50] * 5})}
    )
    choice = grid_choice(state, PRICES)
    assert choice is not None
    assert choice.memory_mb == 256


def test_plan_asks_for_num_invocations_per_value_and_architecture() -> None:
    request = TuningRequest(
        function_name="fn",
        search=SearchKind.GRID,
        memory_values=(128, 1024),
        num=20,
        architectures=(X86, Architecture.ARM64),
    )
    assert plan_grid(TuningState(request=request)) == [
        Probe(memory_mb=128, architecture=X86, count=20),
        Probe(memory_mb=1024, architecture=X86, count=20),
        Probe(memory_mb=128, architecture=Architecture.ARM64, count=20),
        Probe(memory_mb=1024, architecture=Architecture.ARM64, count=20),
    ]


def test_a_failing_value_is_not_retried_and_not_chosen() -> None:
    oom = Observation(
        memory_mb=128,
        architecture=X86,
        duration_ms=40.0,
        billed_duration_ms=40,
        max_memory_used_mb=128,
        error=ErrorKind.OUT_OF_MEMORY,
    )
    state = _state().model_copy(
        update={"observations": (oom, *_observations({256: BILLED[256], 512: BILLED[512]}))}
    )
    assert plan_grid(state) == []
    outcome = result(state)
    assert outcome.best is not None
    assert outcome.best.memory_mb == 256
    failed = next(r for r in outcome.results if r.memory_mb == 128)
    assert failed.error is ErrorKind.OUT_OF_MEMORY
    assert not failed.feasible


def test_values_without_headroom_are_left_out() -> None:
    # 60 MB used: 128 MB has headroom; with 120 MB used it would not (needs 132 MB).
    tight = tuple(o.model_copy(update={"max_memory_used_mb": 120}) for o in _observations(BILLED))
    state = _state().model_copy(update={"observations": tight})
    choice = grid_choice(state, PRICES)
    assert choice is not None
    assert choice.memory_mb == 256


def test_result_reports_power_tuning_figures_and_spend() -> None:
    outcome = result(_state())
    assert outcome.invocations == 15
    billed_gb_s = sum(sum(v) / 1000 * m / 1024 for m, v in BILLED.items())
    assert outcome.gb_seconds == pytest.approx(billed_gb_s)
    assert outcome.tuning_cost_usd == pytest.approx(billed_gb_s * 0.0000166667 + 15 * 0.0000002)
    best = outcome.best
    assert best is not None
    assert best.duration_ms == 101
    assert best.cost_per_invocation_usd == pytest.approx(101 * PER_MS_128 + 0.0000002)
    assert math.isclose(best.warm_invocations, 4)


@pytest.mark.parametrize(("statistic", "memory"), [("average", 256), ("p99", 512)])
def test_duration_limit_on_average_or_p99(statistic: str, memory: int) -> None:
    # Average ≤ 60 ms: 128 MB (101 ms) is out, the cheaper of the rest is 256 MB (51 ms).
    # p99 ≤ 150 ms: the cold starts count; p99 of 256 MB is 194 ms (52 + 0.96 × 148), of
    # 512 MB 87.4 ms, so only 512 MB qualifies.
    limit = 60.0 if statistic == "average" else 150.0
    state = _state().model_copy(
        update={
            "request": _state().request.model_copy(
                update={
                    "objective": Objective(
                        max_duration_ms=limit, duration_statistic=DurationStatistic(statistic)
                    )
                }
            )
        }
    )
    choice = grid_choice(state, PRICES)
    assert choice is not None
    assert choice.memory_mb == memory

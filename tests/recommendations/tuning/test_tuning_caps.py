"""Caps hold against the worst case: cost, invocations and run time, checked before each call."""

from __future__ import annotations

import pytest

from aws.invokers.simulator import SimulatorInvoker
from recommendations.pricing import prices_for
from recommendations.snapshot import Architecture
from recommendations.tuning.accounting import run_time_ms, spent_usd, worst_case_usd
from recommendations.tuning.outcome import result
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.request import SearchKind, StopCap, TuningRequest
from recommendations.tuning.search import finish, invoke_within_budget, plan, run, start, update

X86 = Architecture.X86_64
ARM = Architecture.ARM64
PRICES = prices_for("us-east-1")
# Runs out of memory below 900 MB: the current 512 MB fails, like the 1024 MB probe.
HUNGRY = SimulationProfile(
    cpu_ms=1500,
    io_ms=50,
    memory_used_mb=900,
    init_ms=800,
    noise_cv=0.05,
    memory_mb=512,
    timeout_s=8,
)
SMALL = SimulationProfile(cpu_ms=300, io_ms=80, memory_used_mb=150, init_ms=300, noise_cv=0.1)


def _request(profile: SimulationProfile, **overrides: object) -> TuningRequest:
    fields: dict[str, object] = {
        "function_name": "fn",
        "architectures": (X86, ARM),
        "current_memory_mb": profile.memory_mb,
        "timeout_ms": profile.timeout_s * 1000.0,
        "seed": 1,
    }
    fields.update(overrides)
    return TuningRequest.model_validate(fields)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("search", [SearchKind.ADAPTIVE, SearchKind.GRID])
def test_a_tenth_of_a_cent_is_never_exceeded_even_by_out_of_memory_probes(
    seed: int, search: SearchKind
) -> None:
    state = run(
        start(_request(HUNGRY, max_cost_usd=0.001, seed=seed, search=search)),
        SimulatorInvoker(HUNGRY, seed=seed),
    )
    outcome = result(state)
    assert any(o.error for o in state.observations)  # out-of-memory probes were made
    assert outcome.tuning_cost_usd <= 0.001
    assert outcome.stopped_by is StopCap.MAX_COST
    assert "--max-cost" in outcome.stop_reason


def test_the_next_invocation_is_priced_at_its_timeout_before_it_runs() -> None:
    # 5 s at 512 MB costs up to ~$0.00004 warm, ~$0.00013 cold (plus 10 s of init); with less
    # left than that, it is not made, however cheap the earlier ones were.
    request = _request(HUNGRY, max_cost_usd=0.00012, architectures=(X86,))
    state = run(start(request), SimulatorInvoker(HUNGRY, seed=1))
    cold = worst_case_usd(request, 512, X86, True, PRICES)
    assert cold > 0.00012
    assert state.observations == ()
    assert state.stopped_by is StopCap.MAX_COST


def test_a_function_with_a_long_timeout_is_not_invoked_on_a_tiny_budget() -> None:
    # 900 s at 1024 MB could cost $0.015: the cap cannot be promised, so nothing runs.
    profile = SMALL.model_copy(update={"timeout_s": 900})
    state = run(start(_request(profile, max_cost_usd=0.001)), SimulatorInvoker(profile, seed=1))
    assert len(state.observations) == 0
    assert result(state).stopped_by is StopCap.MAX_COST


def test_invocation_cap_is_never_exceeded_and_named() -> None:
    state = run(start(_request(SMALL, max_invocations=10)), SimulatorInvoker(SMALL, seed=1))
    assert len(state.observations) == 10
    assert state.stopped_by is StopCap.MAX_INVOCATIONS
    assert state.stop_reason == "the --max-invocations cap of 10 was reached"


def test_time_cap_holds_against_the_timeout() -> None:
    profile = SMALL.model_copy(update={"timeout_s": 3})
    state = run(start(_request(profile, max_time_s=20.0)), SimulatorInvoker(profile, seed=1))
    assert len(state.observations) > 0
    assert run_time_ms(state.observations) <= 20_000
    assert state.stopped_by is StopCap.MAX_TIME


def test_a_run_the_search_ends_names_no_cap() -> None:
    state = run(start(_request(SMALL, max_cost_usd=5.0)), SimulatorInvoker(SMALL, seed=1))
    assert state.stopped_by is None
    assert result(state).stopped_by is None


def test_step_by_step_runs_hold_the_caps_too() -> None:
    invoker = SimulatorInvoker(HUNGRY, seed=1)
    state = start(_request(HUNGRY, max_cost_usd=0.001))
    while probes := plan(state):
        observations, _ = invoke_within_budget(state, probes, invoker)
        state = update(state, observations)
    state = finish(state)
    assert spent_usd(state.observations, PRICES) <= 0.001
    assert state.stopped_by is StopCap.MAX_COST

"""The resumable search: ``plan`` the next probes, run them, ``update`` the state, repeat.

A Step Functions state machine (or ``run``, for the CLI) drives the loop::

    state = start(request)
    while probes := plan(state):
        observations, _ = invoke_within_budget(state, probes, invoker)
        state = update(state, observations)
    state = finish(state)
    outcome = result(state)

The state is plain JSON (``TuningState.to_json``); planning depends only on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from recommendations.pricing import prices_for
from recommendations.tuning.accounting import fit_to_budget
from recommendations.tuning.adaptive import plan_adaptive
from recommendations.tuning.grid import plan_grid
from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.request import SearchKind, TuningRequest, TuningState


class ProbeRunner(Protocol):
    """Anything that runs probes and reports one observation per invocation made."""

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]: ...


def start(request: TuningRequest) -> TuningState:
    return TuningState(request=request)


def _plan_with_reason(state: TuningState) -> tuple[list[Probe], str]:
    if state.finished:
        return [], state.stop_reason or "finished"
    prices = prices_for(state.request.region)
    if state.request.search is SearchKind.GRID:
        wanted = plan_grid(state)
        reason = "every memory value was measured"
    else:
        wanted, reason = plan_adaptive(state, prices)
    if not wanted:
        return [], reason
    affordable = fit_to_budget(state, wanted, prices)
    if not affordable:
        return [], "the budget cap was reached"
    return affordable, ""


def plan(state: TuningState) -> list[Probe]:
    """The next batch of probes; empty when the search is over."""
    return _plan_with_reason(state)[0]


def update(state: TuningState, observations: Sequence[Observation]) -> TuningState:
    return state.model_copy(
        update={
            "observations": state.observations + tuple(observations),
            "rounds": state.rounds + 1,
        }
    )


def finish(state: TuningState) -> TuningState:
    """Mark the search over, with the reason it stopped."""
    if state.finished:
        return state
    _, reason = _plan_with_reason(state)
    return state.model_copy(update={"finished": True, "stop_reason": reason or "stopped"})


def invoke_within_budget(
    state: TuningState, probes: Sequence[Probe], runner: ProbeRunner
) -> tuple[list[Observation], bool]:
    """Run a planned batch; with a dollar cap, price every invocation again before it runs.

    The planner's estimate can be too low (a smaller memory under memory pressure), so each
    invocation is checked with what the ones before it actually cost. Consecutive invocations
    of one configuration stay warm either way. Returns the observations and whether the cap
    stopped the batch.
    """
    if state.request.max_cost_usd is None:
        return runner.invoke(probes), False
    prices = prices_for(state.request.region)
    batch: list[Observation] = []
    for probe in probes:
        single = probe.model_copy(update={"count": 1})
        for _ in range(probe.count):
            now = state.model_copy(update={"observations": state.observations + tuple(batch)})
            if not fit_to_budget(now, [single], prices):
                return batch, True
            observed = runner.invoke([single])
            batch.extend(observed)
            if not observed or any(o.error for o in observed):
                break
    return batch, False


def run(
    state: TuningState,
    runner: ProbeRunner,
    on_progress: Callable[[TuningState, Sequence[Probe]], None] | None = None,
) -> TuningState:
    """Drive the loop to the end in this process (the CLI's way)."""
    while True:
        probes, reason = _plan_with_reason(state)
        if not probes:
            return state.model_copy(update={"finished": True, "stop_reason": reason})
        if on_progress is not None:
            on_progress(state, probes)
        batch, over_budget = invoke_within_budget(state, probes, runner)
        if batch:
            state = update(state, batch)
        if over_budget or not batch:
            stop = "the budget cap was reached" if over_budget else "the invoker returned nothing"
            return state.model_copy(update={"finished": True, "stop_reason": stop})

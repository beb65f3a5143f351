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
from recommendations.tuning.accounting import check_caps, fit_to_budget
from recommendations.tuning.adaptive import plan_adaptive
from recommendations.tuning.failures import allow
from recommendations.tuning.grid import plan_grid
from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.request import SearchKind, StopCap, TuningRequest, TuningState


class ProbeRunner(Protocol):
    """Anything that runs probes and reports one observation per invocation made."""

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]: ...


def start(request: TuningRequest) -> TuningState:
    return TuningState(request=request)


def _plan_with_reason(state: TuningState) -> tuple[list[Probe], str, StopCap | None]:
    if state.finished:
        return [], state.stop_reason or "finished", state.stopped_by
    prices = prices_for(state.request.region)
    if state.request.search is SearchKind.GRID:
        wanted = plan_grid(state)
        reason = "every memory value was measured"
    else:
        wanted, reason = plan_adaptive(state, prices)
    if not wanted:
        return [], reason, None
    affordable, cap = fit_to_budget(state, wanted, prices)
    if not affordable:
        assert cap is not None
        return [], cap[1], cap[0]
    return affordable, "", None


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


def _finished(state: TuningState, reason: str, cap: StopCap | None) -> TuningState:
    return state.model_copy(
        update={"finished": True, "stop_reason": reason or "stopped", "stopped_by": cap}
    )


def finish(state: TuningState) -> TuningState:
    """Mark the search over, with the reason it stopped (and the cap, when one did)."""
    if state.finished:
        return state
    _, reason, cap = _plan_with_reason(state)
    return _finished(state, reason, cap)


def invoke_within_budget(
    state: TuningState, probes: Sequence[Probe], runner: ProbeRunner
) -> tuple[list[Observation], StopCap | None]:
    """Run a planned batch one invocation at a time, checking every cap before each.

    The worst case of the next invocation (to its timeout, plus init when cold) must fit in
    what is left; consecutive invocations of one configuration stay warm. A probe stops at
    its first failure unless the failure is of an allowed type (``allowed_errors``), whose
    invocations count as measured. Returns the observations and the cap that stopped the
    batch, if one did.
    """
    request = state.request
    if request.max_cost_usd is None and request.max_time_s is None and not request.allowed_errors:
        # Nothing to check between invocations: planned probes already fit the invocation cap.
        return runner.invoke(probes), None
    prices = prices_for(request.region)
    batch: list[Observation] = []
    for probe in probes:
        single = probe.model_copy(update={"count": 1})
        for _ in range(probe.count):
            cap = check_caps(state, probe.memory_mb, probe.architecture, prices, batch)
            if cap is not None:
                return batch, cap[0]
            observed = [allow(o, state.request) for o in runner.invoke([single])]
            batch.extend(observed)
            if not observed or any(o.error for o in observed):
                break
    return batch, None


def run(
    state: TuningState,
    runner: ProbeRunner,
    on_progress: Callable[[TuningState, Sequence[Probe]], None] | None = None,
) -> TuningState:
    """Drive the loop to the end in this process (the CLI's way)."""
    while True:
        probes, reason, cap = _plan_with_reason(state)
        if not probes:
            return _finished(state, reason, cap)
        if on_progress is not None:
            on_progress(state, probes)
        batch, stopped_by = invoke_within_budget(state, probes, runner)
        if batch:
            # Planned again: another probe may still fit what the caps leave.
            state = update(state, batch)
            continue
        if stopped_by is not None:
            return _finished(state, f"the {stopped_by.value} cap was reached", stopped_by)
        return _finished(state, "the invoker returned nothing", None)

"""What a run has spent, and the caps it must not exceed (checked before every invocation).

A cap holds against the worst case, not an estimate: an invocation can run until the
function's timeout (and, when cold, through Lambda's 10-second init phase, billed since
August 2025), so before each one its worst-case cost (billed ms × memory × price, plus the
request) must fit in what is left of ``max_cost_usd``, its worst-case run time in what is
left of ``max_time_s``, and one more invocation in ``max_invocations``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from recommendations.pricing import RegionPrices, invocation_cost
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.request import StopCap, TuningRequest, TuningState

# Lambda's limits: the longest timeout, and the init phase of an on-demand function.
MAX_TIMEOUT_MS = 900_000.0
INIT_LIMIT_MS = 10_000.0


def spent_usd(observations: Sequence[Observation], prices: RegionPrices) -> float:
    return sum(
        invocation_cost(o.billed_duration_ms, o.memory_mb, o.architecture, prices)
        for o in observations
    )


def run_time_ms(observations: Sequence[Observation]) -> float:
    """How long the benchmarked function ran: durations plus init of cold starts."""
    return sum(o.duration_ms + (o.init_duration_ms or 0.0) for o in observations)


def gb_seconds(observations: Sequence[Observation]) -> float:
    return sum(o.gb_seconds for o in observations)


def timeout_ms(request: TuningRequest) -> float:
    return request.timeout_ms or MAX_TIMEOUT_MS


def worst_case_ms(request: TuningRequest, cold: bool) -> float:
    """The longest one invocation can be billed: to its timeout, plus init when cold."""
    return timeout_ms(request) + (INIT_LIMIT_MS if cold else 0.0)


def worst_case_usd(
    request: TuningRequest,
    memory_mb: int,
    architecture: Architecture,
    cold: bool,
    prices: RegionPrices,
) -> float:
    return invocation_cost(worst_case_ms(request, cold), memory_mb, architecture, prices)


def _warm_at(observations: Sequence[Observation]) -> dict[Architecture, int]:
    """Per architecture, the memory whose environment is warm (the last success there)."""
    warm: dict[Architecture, int] = {}
    for o in observations:
        if o.ok:
            warm[o.architecture] = o.memory_mb
        else:
            warm.pop(o.architecture, None)  # a crash tears the environment down
    return warm


def check_caps(
    state: TuningState,
    memory_mb: int,
    architecture: Architecture,
    prices: RegionPrices,
    observations: Sequence[Observation] = (),
) -> tuple[StopCap, str] | None:
    """Which cap one more invocation could break (and a sentence), or None when it fits.

    ``observations`` are those made since ``state`` (a batch in progress).
    """
    request = state.request
    seen = (*state.observations, *observations)
    cold = _warm_at(seen).get(architecture) != memory_mb
    if request.max_invocations is not None and len(seen) + 1 > request.max_invocations:
        return StopCap.MAX_INVOCATIONS, (
            f"the --max-invocations cap of {request.max_invocations} was reached"
        )
    if request.max_cost_usd is not None:
        left = request.max_cost_usd - spent_usd(seen, prices)
        worst = worst_case_usd(request, memory_mb, architecture, cold, prices)
        if worst > left:
            return StopCap.MAX_COST, (
                f"the --max-cost cap of ${request.max_cost_usd:g} was reached: the next "
                f"invocation ({memory_mb} MB {architecture.value}) could cost up to "
                f"${worst:.6f} and ${max(left, 0.0):.6f} is left"
            )
    if request.max_time_s is not None:
        left_ms = request.max_time_s * 1000.0 - run_time_ms(seen)
        worst_ms = worst_case_ms(request, cold)
        if worst_ms > left_ms:
            return StopCap.MAX_TIME, (
                f"the --max-time cap of {request.max_time_s:g} s was reached: the next "
                f"invocation could run {worst_ms / 1000:g} s and "
                f"{max(left_ms, 0.0) / 1000:.1f} s is left"
            )
    return None


def fit_to_budget(
    state: TuningState, probes: Sequence[Probe], prices: RegionPrices
) -> tuple[list[Probe], tuple[StopCap, str] | None]:
    """Trim probes (in order) so that no cap can be exceeded even in the worst case.

    Returns the probes kept and, when the caps trimmed them, the first cap that did.
    """
    kept: list[Probe] = []
    planned: list[Observation] = []
    stop: tuple[StopCap, str] | None = None
    for probe in probes:
        count = 0
        for _ in range(probe.count):
            stop = check_caps(state, probe.memory_mb, probe.architecture, prices, planned)
            if stop is not None:
                break
            # Plan with the worst case: the invocation runs to its timeout.
            cold = _warm_at((*state.observations, *planned)).get(probe.architecture) != (
                probe.memory_mb
            )
            worst = worst_case_ms(state.request, cold)
            planned.append(
                Observation(
                    memory_mb=probe.memory_mb,
                    architecture=probe.architecture,
                    duration_ms=timeout_ms(state.request),
                    billed_duration_ms=math.ceil(worst),
                    init_duration_ms=INIT_LIMIT_MS if cold else None,
                )
            )
            count += 1
        if count:
            kept.append(probe.model_copy(update={"count": count}))
        if stop is not None:
            break
    return kept, stop

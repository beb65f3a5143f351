"""What a run has spent, and the caps it must not exceed (checked before every invocation).

A cap holds against the worst case, not an estimate: an invocation can run until the
function's timeout, and any invocation can be cold and run through Lambda's 10-second init
phase first (billed since August 2025). Lambda starts a new execution environment whenever it
likes (after a crash, on recycling, and each state-machine batch makes fresh copies), so
"warm" is never promised: before each invocation its worst-case cost (timeout plus the init
limit, × memory × price, plus the request) must fit in what is left of ``max_cost_usd``, its
worst-case run time in what is left of ``max_time_s``, and one more invocation in
``max_invocations``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from recommendations.pricing import FREE_EPHEMERAL_STORAGE_MB, RegionPrices, invocation_cost
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.request import StopCap, TuningRequest, TuningState

# Lambda's limits: the longest timeout, and the init phase of an on-demand function.
MAX_TIMEOUT_MS = 900_000.0
INIT_LIMIT_MS = 10_000.0


def spent_usd(
    observations: Sequence[Observation],
    prices: RegionPrices,
    ephemeral_storage_mb: int = FREE_EPHEMERAL_STORAGE_MB,
) -> float:
    return sum(
        invocation_cost(
            o.billed_duration_ms, o.memory_mb, o.architecture, prices, ephemeral_storage_mb
        )
        for o in observations
    )


def run_time_ms(observations: Sequence[Observation]) -> float:
    """How long the benchmarked function ran: durations plus init of cold starts."""
    return sum(o.duration_ms + (o.init_duration_ms or 0.0) for o in observations)


def gb_seconds(observations: Sequence[Observation]) -> float:
    return sum(o.gb_seconds for o in observations)


def timeout_ms(request: TuningRequest) -> float:
    return request.timeout_ms or MAX_TIMEOUT_MS


def worst_case_ms(request: TuningRequest, cold: bool = True) -> float:
    """The longest one invocation can be billed: to its timeout, plus init when cold.

    The caps always use ``cold=True`` (see the module's docstring).
    """
    return timeout_ms(request) + (INIT_LIMIT_MS if cold else 0.0)


def worst_case_usd(
    request: TuningRequest,
    memory_mb: int,
    architecture: Architecture,
    cold: bool,
    prices: RegionPrices,
) -> float:
    return invocation_cost(
        worst_case_ms(request, cold),
        memory_mb,
        architecture,
        prices,
        request.ephemeral_storage_mb,
    )


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
    if request.max_invocations is not None and len(seen) + 1 > request.max_invocations:
        return StopCap.MAX_INVOCATIONS, (
            f"the --max-invocations cap of {request.max_invocations} was reached"
        )
    if request.max_cost_usd is not None:
        left = request.max_cost_usd - spent_usd(seen, prices, request.ephemeral_storage_mb)
        worst = worst_case_usd(request, memory_mb, architecture, True, prices)
        if worst > left:
            return StopCap.MAX_COST, (
                f"the --max-cost cap of ${request.max_cost_usd:g} was reached: the next "
                f"invocation ({memory_mb} MB {architecture.value}) could cost up to "
                f"${worst:.6f} and ${max(left, 0.0):.6f} is left"
            )
    if request.max_time_s is not None:
        left_ms = request.max_time_s * 1000.0 - run_time_ms(seen)
        worst_ms = worst_case_ms(request)
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
            # Plan with the worst case: a cold start that runs to its timeout.
            planned.append(
                Observation(
                    memory_mb=probe.memory_mb,
                    architecture=probe.architecture,
                    duration_ms=timeout_ms(state.request),
                    billed_duration_ms=math.ceil(worst_case_ms(state.request)),
                    init_duration_ms=INIT_LIMIT_MS,
                )
            )
            count += 1
        if count:
            kept.append(probe.model_copy(update={"count": count}))
        if stop is not None:
            break
    return kept, stop

"""What a run has spent, and what the next invocations may cost (for budget caps)."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.pricing import RegionPrices, invocation_cost
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.request import TuningState


def spent_usd(observations: Sequence[Observation], prices: RegionPrices) -> float:
    return sum(
        invocation_cost(o.billed_duration_ms, o.memory_mb, o.architecture, prices)
        for o in observations
    )


def gb_seconds(observations: Sequence[Observation]) -> float:
    return sum(o.gb_seconds for o in observations)


def estimated_invocation_usd(
    memory_mb: int,
    architecture: Architecture,
    observations: Sequence[Observation],
    prices: RegionPrices,
) -> float | None:
    """A cautious price for one more invocation; None before anything has been observed.

    Duration falls with memory at best in proportion (more CPU), so GB-seconds at a smaller
    memory are at most those observed at a larger one, and at a larger memory the duration is
    at most the slowest seen.
    """
    worst: float | None = None
    for o in observations:
        billed = max(o.billed_duration_ms, 1)
        estimate = invocation_cost(
            billed * max(memory_mb, o.memory_mb) / memory_mb, memory_mb, architecture, prices
        )
        worst = estimate if worst is None else max(worst, estimate)
    return worst


def fit_to_budget(state: TuningState, probes: Sequence[Probe], prices: RegionPrices) -> list[Probe]:
    """Trim probes (in order) so the caps on invocations and dollars cannot be exceeded."""
    request = state.request
    done = len(state.observations)
    remaining_invocations = (
        None if request.max_invocations is None else request.max_invocations - done
    )
    remaining_usd = (
        None
        if request.max_cost_usd is None
        else request.max_cost_usd - spent_usd(state.observations, prices)
    )
    kept: list[Probe] = []
    for probe in probes:
        count = probe.count
        if remaining_invocations is not None:
            count = min(count, remaining_invocations)
        if remaining_usd is not None:
            each = estimated_invocation_usd(
                probe.memory_mb, probe.architecture, state.observations, prices
            )
            if each is None:
                # Nothing observed yet: one invocation calibrates the estimate.
                count = min(count, 1) if not kept else 0
            else:
                count = min(count, int(remaining_usd // each))
        if count <= 0:
            break
        kept.append(probe.model_copy(update={"count": count}))
        if remaining_invocations is not None:
            remaining_invocations -= count
        if remaining_usd is not None:
            each = estimated_invocation_usd(
                probe.memory_mb, probe.architecture, state.observations, prices
            )
            remaining_usd -= count * (each or 0.0)
    return kept

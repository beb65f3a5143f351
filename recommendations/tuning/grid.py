"""Grid search, compatible with AWS Lambda Power Tuning.

Each memory value is invoked ``num`` times per architecture. A configuration's duration is the
trimmed mean of the REPORT lines' Billed Duration (sort, drop ``int(n × 0.2)`` from each end);
its price is ``ceil(trimmed mean)`` ms at that memory; the choice follows Power Tuning's
analyzer: cheapest (ties: faster), fastest (ties: cheaper) or balanced
(``w × cost / max cost + (1 − w) × duration / max duration``, first in input order on ties).

Duration limits (average: the trimmed mean; p99: of the billed durations) and the
``fastest-within`` strategy are not Power Tuning features; they use tunebot's definitions over
the measured values. Deliberate differences, both safety rules of tunebot: a configuration
where any invocation failed is left out of the choice (Power Tuning stops the whole run), and
so is one without 10% headroom over the Max Memory Used observed there.
"""

from __future__ import annotations

import math

from recommendations.pricing import RegionPrices
from recommendations.tuning.objective import Candidate, Objective, Strategy, choose, meets_limit
from recommendations.tuning.observation import Probe
from recommendations.tuning.request import TuningState
from recommendations.tuning.samples import (
    ConfigSamples,
    group,
    has_headroom,
    power_tuning_trimmed_mean,
    quantile,
)


def plan_grid(state: TuningState) -> list[Probe]:
    request = state.request
    groups = group(state.observations)
    probes: list[Probe] = []
    for architecture in request.architectures:
        for memory in request.memory_values:
            samples = groups.get((memory, architecture))
            done = len(samples.observations) if samples else 0
            if samples is not None and samples.failed:
                continue  # a failing configuration is not invoked again
            if done < request.num:
                probes.append(
                    Probe(memory_mb=memory, architecture=architecture, count=request.num - done)
                )
    return probes


def price_per_invocation(
    trimmed_billed_ms: float, samples: ConfigSamples, prices: RegionPrices
) -> float:
    """Power Tuning's ``averagePrice``: whole milliseconds × price per ms at this memory."""
    per_ms = prices.gb_second[samples.architecture] * samples.memory_mb / 1024.0 / 1000.0
    return math.ceil(trimmed_billed_ms) * per_ms


def grid_candidates(
    state: TuningState, prices: RegionPrices
) -> list[tuple[ConfigSamples, Candidate]]:
    """Measured configurations in request order, with Power Tuning's duration and price."""
    request = state.request
    groups = group(state.observations)
    measured: list[tuple[ConfigSamples, Candidate]] = []
    for architecture in request.architectures:
        for memory in request.memory_values:
            samples = groups.get((memory, architecture))
            if samples is None or samples.failed or not samples.observations:
                continue
            billed = [float(o.billed_duration_ms) for o in samples.observations]
            duration = power_tuning_trimmed_mean(billed)
            if duration <= 0:
                continue  # Power Tuning drops configurations without a duration
            measured.append(
                (
                    samples,
                    Candidate(
                        memory_mb=memory,
                        architecture=architecture,
                        duration_ms=duration,
                        cost_usd=price_per_invocation(duration, samples, prices),
                        duration_p99_ms=quantile(billed, 0.99),
                    ),
                )
            )
    return measured


def choose_like_power_tuning(candidates: list[Candidate], objective: Objective) -> Candidate | None:
    if not candidates:
        return None
    if objective.strategy is Strategy.COST:
        return min(candidates, key=lambda c: (c.cost_usd, c.duration_ms))
    if objective.strategy is Strategy.SPEED:
        return min(candidates, key=lambda c: (c.duration_ms, c.cost_usd))
    if objective.strategy is Strategy.BALANCED:
        weight = objective.balanced_weight
        max_cost = max(c.cost_usd for c in candidates)
        max_duration = max(c.duration_ms for c in candidates)
        # ``min`` keeps the first of equal values, like Power Tuning's stable sort.
        return min(
            candidates,
            key=lambda c: (
                weight * c.cost_usd / max_cost + (1 - weight) * c.duration_ms / max_duration
            ),
        )
    # Not a Power Tuning strategy: tunebot's own definition over the measured values.
    return choose(candidates, objective)


def grid_choice(state: TuningState, prices: RegionPrices) -> Candidate | None:
    measured = grid_candidates(state, prices)
    eligible = [c for samples, c in measured if has_headroom(samples)]
    eligible = [c for c in eligible if meets_limit(c, state.request.objective)]
    return choose_like_power_tuning(eligible, state.request.objective)

"""What "best" means: the strategies and the optional duration limit.

``choose`` picks from a set of candidate configurations with known expected duration and cost;
the physics (true optimum) and the adaptive search both use it, so they agree on the meaning.
The grid search uses Power Tuning's own rules instead (see ``grid.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field

from recommendations.snapshot import Architecture, Frozen


class Strategy(StrEnum):
    COST = "cost"
    SPEED = "speed"
    BALANCED = "balanced"
    # The fastest configuration whose cost is within ``within_percent`` of the cheapest.
    FASTEST_WITHIN = "fastest-within"


class DurationStatistic(StrEnum):
    AVERAGE = "average"
    P99 = "p99"


class Objective(Frozen):
    strategy: Strategy = Strategy.COST
    # Power Tuning's meaning: 1 = only cost matters, 0 = only speed.
    balanced_weight: float = Field(default=0.5, ge=0, le=1)
    within_percent: float = Field(default=10.0, ge=0)
    max_duration_ms: float | None = Field(default=None, gt=0)
    duration_statistic: DurationStatistic = DurationStatistic.AVERAGE

    def describe(self) -> str:
        if self.strategy is Strategy.BALANCED:
            text = f"balanced (weight {self.balanced_weight:g} on cost)"
        elif self.strategy is Strategy.FASTEST_WITHIN:
            text = f"fastest within {self.within_percent:g}% of the cheapest"
        else:
            text = "lowest cost" if self.strategy is Strategy.COST else "lowest duration"
        if self.max_duration_ms is not None:
            text += f", {self.duration_statistic.value} duration ≤ {self.max_duration_ms:g} ms"
        return text


@dataclass(frozen=True, slots=True)
class Candidate:
    """A configuration with expected figures (a plain dataclass: built by the thousand)."""

    memory_mb: int
    architecture: Architecture
    duration_ms: float
    cost_usd: float
    duration_p99_ms: float | None = None


def meets_limit(candidate: Candidate, objective: Objective) -> bool:
    """Whether the candidate's average (or p99) duration is within the objective's limit."""
    if objective.max_duration_ms is None:
        return True
    if objective.duration_statistic is DurationStatistic.P99:
        value = candidate.duration_p99_ms
        if value is None:
            value = candidate.duration_ms
    else:
        value = candidate.duration_ms
    return value <= objective.max_duration_ms


def score(
    candidate: Candidate, objective: Objective, best_cost: float, best_duration: float
) -> float:
    """Lower is better. Balanced normalises by the best cost and duration on offer."""
    if objective.strategy is Strategy.COST:
        return candidate.cost_usd
    if objective.strategy is Strategy.SPEED:
        return candidate.duration_ms
    if objective.strategy is Strategy.BALANCED:
        weight = objective.balanced_weight
        return weight * candidate.cost_usd / best_cost + (1 - weight) * (
            candidate.duration_ms / best_duration
        )
    # FASTEST_WITHIN: the cost filter is applied in ``choose``.
    return candidate.duration_ms


def choose(
    candidates: Sequence[Candidate], objective: Objective, cheapest_usd: float | None = None
) -> Candidate | None:
    """The best candidate for the objective, or None when none meets the duration limit.

    Ties go to the cheaper, then to the smaller memory, so a flat curve never picks 10 GB.
    ``cheapest_usd`` (fastest-within): a cheaper configuration known from elsewhere (the
    cheapest one measured); the cost ceiling is (1 + X) × the lower of it and the cheapest
    candidate, and None comes back when no candidate is under it.
    """
    eligible = [c for c in candidates if meets_limit(c, objective)]
    if not eligible:
        return None
    best_cost = min(c.cost_usd for c in eligible)
    best_duration = min(c.duration_ms for c in eligible)
    if objective.strategy is Strategy.FASTEST_WITHIN:
        reference = best_cost if cheapest_usd is None else min(best_cost, cheapest_usd)
        ceiling = reference * (1 + objective.within_percent / 100.0)
        eligible = [c for c in eligible if c.cost_usd <= ceiling]
        if not eligible:
            return None
    scores = [score(c, objective, best_cost, best_duration) for c in eligible]
    best_score = min(scores)
    tied = [c for c, s in zip(eligible, scores, strict=True) if s <= best_score * (1 + 1e-9)]
    return min(tied, key=lambda c: (c.cost_usd, c.memory_mb))


def shortfall(
    candidate: Candidate, best: Candidate, objective: Objective, offered: Sequence[Candidate]
) -> float:
    """How much worse ``candidate`` is than ``best`` for the objective, as a fraction (0: as good).

    ``offered`` is the set both come from (balanced normalises by its best cost and duration).
    Missing the duration limit counts as 100% worse.
    """
    penalty = 0.0 if meets_limit(candidate, objective) else 1.0
    if objective.strategy is Strategy.COST:
        return penalty + candidate.cost_usd / best.cost_usd - 1
    if objective.strategy is Strategy.SPEED:
        return penalty + candidate.duration_ms / best.duration_ms - 1
    if objective.strategy is Strategy.BALANCED:
        best_cost = min(c.cost_usd for c in offered)
        best_duration = min(c.duration_ms for c in offered)
        ours = score(candidate, objective, best_cost, best_duration)
        theirs = score(best, objective, best_cost, best_duration)
        return penalty + ours / theirs - 1
    ceiling = min(c.cost_usd for c in offered) * (1 + objective.within_percent / 100.0)
    over_budget = max(0.0, candidate.cost_usd / ceiling - 1)
    return penalty + over_budget + max(0.0, candidate.duration_ms / best.duration_ms - 1)

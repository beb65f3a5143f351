"""The simulator's physics, exactly as the design notes state it.

Other tools compute the true optimum from the same formula, so nothing here is tuned or
approximated: D(m, a) = io + cpu / s(a) × ((1 − p) / min(v, 1) + p / v) × (1 + g × (mu / m)²)
with v = m / 1769.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from recommendations.pricing import RegionPrices, prices_for
from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, Architecture
from recommendations.tuning.objective import Candidate, Objective, choose, shortfall
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.samples import HEADROOM

MB_PER_VCPU = 1769
_DEFAULT_PRICES = prices_for("us-east-1")


def vcpus(memory_mb: float) -> float:
    return memory_mb / MB_PER_VCPU


def cpu_speed(profile: SimulationProfile, architecture: Architecture) -> float:
    return profile.arm_speed if architecture is Architecture.ARM64 else 1.0


def expected_duration_ms(
    profile: SimulationProfile, memory_mb: float, architecture: Architecture
) -> float:
    """Expected warm duration D(m, a), before noise and outliers."""
    v = vcpus(memory_mb)
    p = profile.parallel_fraction
    cpu_time = profile.cpu_ms / cpu_speed(profile, architecture) * ((1 - p) / min(v, 1.0) + p / v)
    pressure = 1 + profile.gc_factor * (profile.memory_used_mb / memory_mb) ** 2
    return profile.io_ms + cpu_time * pressure


def outlier_multiplier(profile: SimulationProfile) -> float:
    """The mean of the outlier factor O: E[D × L × O] = D × this (L has mean 1)."""
    return 1 - profile.outlier_rate + profile.outlier_rate * profile.outlier_factor


def cost_for_duration(
    duration_ms: float,
    memory_mb: float,
    architecture: Architecture,
    prices: RegionPrices = _DEFAULT_PRICES,
) -> float:
    """USD for one invocation of ``duration_ms`` billed milliseconds (request included)."""
    return duration_ms / 1000.0 * memory_mb / 1024.0 * prices.gb_second[architecture] + (
        prices.request
    )


def expected_cost_usd(
    profile: SimulationProfile,
    memory_mb: float,
    architecture: Architecture,
    prices: RegionPrices = _DEFAULT_PRICES,
) -> float:
    """Expected warm cost of one invocation, outliers included."""
    duration = expected_duration_ms(profile, memory_mb, architecture) * outlier_multiplier(profile)
    return cost_for_duration(duration, memory_mb, architecture, prices)


def minimum_memory_mb(memory_used_mb: float) -> int:
    """The smallest memory with 10% headroom over ``memory_used_mb``."""
    # The small epsilon keeps 1.1 × 1000 from becoming 1101 through float rounding.
    return max(MIN_MEMORY_MB, math.ceil(HEADROOM * memory_used_mb - 1e-9))


def allowed_architectures(
    profile: SimulationProfile, requested: Iterable[Architecture] | None = None
) -> tuple[Architecture, ...]:
    wanted = tuple(requested) if requested is not None else tuple(Architecture)
    return tuple(a for a in wanted if a is Architecture.X86_64 or profile.supports_arm)


def expected_candidate(
    profile: SimulationProfile,
    memory_mb: int,
    architecture: Architecture,
    prices: RegionPrices = _DEFAULT_PRICES,
) -> Candidate:
    duration = expected_duration_ms(profile, memory_mb, architecture) * outlier_multiplier(profile)
    return Candidate(
        memory_mb=memory_mb,
        architecture=architecture,
        duration_ms=duration,
        cost_usd=cost_for_duration(duration, memory_mb, architecture, prices),
    )


def feasible_candidates(
    profile: SimulationProfile,
    architectures: Iterable[Architecture] | None = None,
    prices: RegionPrices = _DEFAULT_PRICES,
) -> list[Candidate]:
    """Every integer memory with headroom on every allowed architecture, with expected figures."""
    low = minimum_memory_mb(profile.memory_used_mb)
    if low > MAX_MEMORY_MB:
        return []
    return [
        expected_candidate(profile, memory, architecture, prices)
        for architecture in allowed_architectures(profile, architectures)
        for memory in range(low, MAX_MEMORY_MB + 1)
    ]


def true_optimum(
    profile: SimulationProfile,
    objective: Objective | None = None,
    architectures: Iterable[Architecture] | None = None,
    prices: RegionPrices = _DEFAULT_PRICES,
) -> Candidate | None:
    """The best configuration over every integer memory size with headroom, exactly.

    ``None`` when nothing is feasible (no allowed architecture, or a duration limit nobody
    meets). A p99 limit is checked against the mean here (the physics has no closed p99).
    """
    return choose(feasible_candidates(profile, architectures, prices), objective or Objective())


def strategy_regret(
    profile: SimulationProfile,
    memory_mb: int,
    architecture: Architecture,
    objective: Objective,
    architectures: Iterable[Architecture] | None = None,
    prices: RegionPrices = _DEFAULT_PRICES,
    candidates: list[Candidate] | None = None,
) -> float:
    """How much worse the choice is than the true optimum for the objective (0: as good).

    - cost: expected cost ÷ the optimum's − 1;
    - speed: expected duration ÷ the optimum's − 1;
    - balanced: score ÷ the optimum's score − 1, the score being
      w × cost / min cost + (1 − w) × duration / min duration, minima over every feasible
      configuration;
    - fastest-within X: expected duration ÷ the optimum's − 1 (never below 0), plus the share
      by which its expected cost exceeds (1 + X) × the cheapest feasible expected cost.

    Expected figures are the physics' (outliers included); infeasible choices (an architecture
    that cannot run, memory below the peak used) are infinitely bad. ``candidates`` (from
    ``feasible_candidates``) saves recomputing them for many choices.
    """
    offered = (
        candidates
        if candidates is not None
        else feasible_candidates(profile, architectures, prices)
    )
    best = choose(offered, objective)
    if best is None:
        return math.inf
    if architecture not in allowed_architectures(profile, architectures) or (
        memory_mb < profile.memory_used_mb
    ):
        return math.inf
    mine = expected_candidate(profile, memory_mb, architecture, prices)
    return max(0.0, shortfall(mine, best, objective, offered))


def regret(
    profile: SimulationProfile,
    memory_mb: int,
    architecture: Architecture,
    architectures: Iterable[Architecture] | None = None,
    prices: RegionPrices = _DEFAULT_PRICES,
) -> float:
    """Cost of the choice ÷ cost of the cost-optimum − 1 (infinite for an infeasible choice)."""
    best = true_optimum(profile, Objective(), architectures, prices)
    if best is None:
        return math.inf
    if architecture not in allowed_architectures(profile, architectures) or (
        memory_mb < profile.memory_used_mb
    ):
        return math.inf
    return expected_cost_usd(profile, memory_mb, architecture, prices) / best.cost_usd - 1

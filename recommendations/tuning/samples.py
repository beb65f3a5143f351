"""Observations grouped by configuration, and the small statistics both searches use."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from recommendations.headroom import REQUIRED_MARGIN, keeps_required_margin
from recommendations.pricing import RegionPrices, invocation_cost
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import ErrorKind, Observation

Config = tuple[int, Architecture]
# The benchmark keeps the headroom policy's required margin (recommendations/headroom.py)
# above the peak memory used: a configuration with less is infeasible.
HEADROOM = 1.0 + REQUIRED_MARGIN


@dataclass
class ConfigSamples:
    memory_mb: int
    architecture: Architecture
    observations: list[Observation] = field(default_factory=list)

    @property
    def config(self) -> Config:
        return (self.memory_mb, self.architecture)

    @property
    def warm_durations(self) -> list[float]:
        """Durations of successful warm invocations: what the duration model is fitted to."""
        return [o.duration_ms for o in self.observations if o.ok and not o.cold]

    @property
    def errors(self) -> list[ErrorKind]:
        return [o.error for o in self.observations if o.error is not None]

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def successes(self) -> int:
        return sum(1 for o in self.observations if o.ok)

    @property
    def max_memory_used_mb(self) -> int | None:
        used = [o.max_memory_used_mb for o in self.observations if o.max_memory_used_mb]
        return max(used) if used else None


def measured_cost_usd(samples: ConfigSamples, prices: RegionPrices) -> float | None:
    """Cost per invocation from the mean billed duration of the warm successes (or any)."""
    warm = [o for o in samples.observations if o.ok and not o.cold]
    used = warm or [o for o in samples.observations if o.ok]
    if not used:
        return None
    billed = sum(o.billed_duration_ms for o in used) / len(used)
    return invocation_cost(billed, samples.memory_mb, samples.architecture, prices)


def has_headroom(samples: ConfigSamples) -> bool:
    """The policy's required margin over the Max Memory Used seen at this configuration."""
    return keeps_required_margin(samples.memory_mb, samples.max_memory_used_mb)


def cheapest_measured(
    groups: Iterable[ConfigSamples], prices: RegionPrices
) -> tuple[ConfigSamples, float] | None:
    """The feasible measured configuration (no failure, headroom) with the lowest cost."""
    best: tuple[ConfigSamples, float] | None = None
    for g in groups:
        if g.failed or not has_headroom(g):
            continue
        cost = measured_cost_usd(g, prices)
        if cost is not None and (best is None or cost < best[1]):
            best = (g, cost)
    return best


def group(observations: Iterable[Observation]) -> dict[Config, ConfigSamples]:
    """Observations by configuration, in the order configurations were first seen."""
    groups: dict[Config, ConfigSamples] = {}
    for observation in observations:
        key = observation.config
        if key not in groups:
            groups[key] = ConfigSamples(observation.memory_mb, observation.architecture)
        groups[key].observations.append(observation)
    return groups


def peak_memory_used_mb(observations: Iterable[Observation]) -> int | None:
    """The largest Max Memory Used of any successful invocation."""
    used = [o.max_memory_used_mb for o in observations if o.ok and o.max_memory_used_mb]
    return max(used) if used else None


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of nothing")
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (the usual "type 7")."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("quantile of nothing")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def power_tuning_trimmed_mean(values: Sequence[float], discard: float = 0.2) -> float:
    """AWS Lambda Power Tuning's average: sort, drop ``int(n × discard)`` from each end, mean."""
    if not values:
        return 0.0
    drop = int(len(values) * discard)
    kept = sorted(values)[drop : len(values) - drop] if drop else sorted(values)
    return sum(kept) / len(kept)

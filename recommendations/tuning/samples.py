"""Observations grouped by configuration, and the small statistics both searches use."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from recommendations.snapshot import Architecture
from recommendations.tuning.observation import ErrorKind, Observation

Config = tuple[int, Architecture]


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

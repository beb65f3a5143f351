"""Simulated production traffic for development and tests, from the simulator's physics.

The tuning simulator (aws/invokers/simulator.py) samples one invocation after another for a
benchmark; verification needs a day of production-like traffic instead: invocations spread
over hours with a daily cycle, a steady share of cold starts (scaling out) and, optionally,
throttles. Durations follow the same physics and noise: D(m, a) × log-normal(mean 1,
``noise_cv``) × outlier, init on cold starts, billed = ceil(duration + init).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from recommendations.snapshot import Architecture
from recommendations.tuning.noise import ProfileNoise
from recommendations.tuning.observation import ErrorKind
from recommendations.tuning.physics import expected_duration_ms
from recommendations.tuning.profile import SimulationProfile
from recommendations.verification.observations import (
    HOUR,
    HourlyBucket,
    Invocation,
    bucket_invocations,
    hour_start,
)

# Production traffic scales out now and then: this share of invocations starts cold.
DEFAULT_COLD_START_RATE = 0.01
# Busiest hour ÷ quietest hour of the simulated daily cycle is (1 + a) / (1 − a).
DAILY_AMPLITUDE = 0.6
_FAILED_INIT_FRACTION = 0.5


def hourly_weights(start: datetime, hours: int, daily_cycle: bool) -> list[float]:
    """Relative traffic per hour: a sine over the day peaking at 14:00 UTC, or flat."""
    if not daily_cycle:
        return [1.0] * hours
    first = hour_start(start)
    return [
        1 + DAILY_AMPLITUDE * math.sin(2 * math.pi * (((first + i * HOUR).hour - 8) / 24))
        for i in range(hours)
    ]


class TrafficGenerator:
    """Seeded traffic for one profile; each window call draws fresh randomness."""

    def __init__(
        self,
        profile: SimulationProfile,
        seed: int = 0,
        cold_start_rate: float = DEFAULT_COLD_START_RATE,
        throttle_rate: float = 0.0,
    ) -> None:
        self.profile = profile
        self.cold_start_rate = cold_start_rate
        self.throttle_rate = throttle_rate
        self._rng = random.Random(seed)
        self._random = ProfileNoise(profile, self._rng)

    def _noise(self) -> float:
        return self._random.noise()

    def _outlier(self) -> float:
        return self._random.outlier()

    def invocation(
        self,
        at: datetime,
        memory_mb: int,
        architecture: Architecture,
        cold: bool,
        slowdown: float = 1.0,
    ) -> Invocation:
        profile = self.profile
        if architecture is Architecture.ARM64 and not profile.supports_arm:
            failed_init = profile.init_ms * _FAILED_INIT_FRACTION * self._noise()
            return Invocation(
                at=at,
                memory_mb=memory_mb,
                architecture=architecture,
                duration_ms=0.0,
                billed_duration_ms=math.ceil(failed_init),
                init_duration_ms=failed_init,
                error=ErrorKind.ERROR,
            )
        duration = expected_duration_ms(profile, memory_mb, architecture) * slowdown
        duration *= self._noise() * self._outlier()
        init = profile.init_ms * self._noise() if cold else None
        error: ErrorKind | None = None
        timeout_ms = profile.timeout_s * 1000.0
        if memory_mb < profile.memory_used_mb:
            error = ErrorKind.OUT_OF_MEMORY
        elif duration > timeout_ms:
            error = ErrorKind.TIMEOUT
            duration = timeout_ms
        elif profile.error_rate and self._rng.random() < profile.error_rate:
            error = ErrorKind.ERROR
        return Invocation(
            at=at,
            memory_mb=memory_mb,
            architecture=architecture,
            duration_ms=duration,
            billed_duration_ms=math.ceil(duration + (init or 0.0)),
            init_duration_ms=init,
            error=error,
        )

    def window(
        self,
        memory_mb: int,
        architecture: Architecture,
        invocations: int,
        start: datetime,
        hours: int = 24,
        *,
        daily_cycle: bool = True,
        first_cold: bool = False,
        slowdown: float = 1.0,
    ) -> list[HourlyBucket]:
        """``invocations`` spread over ``hours`` from ``start``, as hourly buckets.

        ``first_cold``: the first invocation follows a configuration change and starts cold.
        ``slowdown`` multiplies every warm duration (a regression made to order for tests).
        """
        first = hour_start(start)
        weights = hourly_weights(first, hours, daily_cycle)
        rng = self._rng
        chosen_hours = rng.choices(range(hours), weights=weights, k=invocations)
        slots = sorted(hour * 3600.0 + rng.random() * 3600.0 for hour in chosen_hours)
        throttled: dict[datetime, int] = {}
        made: list[Invocation] = []
        for index, offset in enumerate(slots):
            at = first + timedelta(seconds=offset)
            if self.throttle_rate and rng.random() < self.throttle_rate:
                key = hour_start(at)
                throttled[key] = throttled.get(key, 0) + 1
                continue
            cold = (first_cold and index == 0) or rng.random() < self.cold_start_rate
            made.append(self.invocation(at, memory_mb, architecture, cold, slowdown))
        buckets = bucket_invocations(made)
        if throttled:
            buckets = [
                b.model_copy(update={"throttles": throttled.get(b.start, 0)}) for b in buckets
            ]
        return buckets

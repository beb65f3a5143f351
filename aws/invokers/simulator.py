"""The simulator invoker: the design's physics, sampled with seeded randomness.

Each architecture is its own execution environment (as the real invoker's one copy per
architecture): the first invocation after its memory changes is cold.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from recommendations.snapshot import Architecture
from recommendations.tuning.noise import ProfileNoise
from recommendations.tuning.observation import ErrorKind, Observation, Probe
from recommendations.tuning.physics import expected_duration_ms
from recommendations.tuning.profile import SimulationProfile

# A function that cannot start on arm64 fails during init, after roughly this long.
_FAILED_INIT_FRACTION = 0.5


class SimulatorInvoker:
    """Invokes a :class:`SimulationProfile` instead of Lambda. Calls no AWS API."""

    def __init__(self, profile: SimulationProfile, seed: int = 0) -> None:
        self.profile = profile
        self._rng = random.Random(seed)
        self._configured: dict[Architecture, int] = {}
        self._random = ProfileNoise(profile, self._rng)

    def _noise(self) -> float:
        return self._random.noise()

    def _outlier(self) -> float:
        return self._random.outlier()

    def invoke_once(self, memory_mb: int, architecture: Architecture) -> Observation:
        profile = self.profile
        cold = self._configured.get(architecture) != memory_mb
        self._configured[architecture] = memory_mb
        if architecture is Architecture.ARM64 and not profile.supports_arm:
            # Exec format error while starting: every attempt is a failed cold start.
            self._configured.pop(architecture, None)
            failed_init = profile.init_ms * _FAILED_INIT_FRACTION * self._noise()
            return Observation(
                memory_mb=memory_mb,
                architecture=architecture,
                duration_ms=0.0,
                billed_duration_ms=math.ceil(failed_init),
                init_duration_ms=failed_init,
                max_memory_used_mb=min(memory_mb, 30),
                error=ErrorKind.ERROR,
                error_type="Runtime.InvalidEntrypoint",
            )
        duration = expected_duration_ms(profile, memory_mb, architecture)
        duration *= self._noise() * self._outlier()
        init = profile.init_ms * self._noise() if cold else None
        error: ErrorKind | None = None
        error_type: str | None = None
        used = profile.memory_used_mb
        timeout_ms = profile.timeout_s * 1000.0
        if memory_mb < profile.memory_used_mb:
            error = ErrorKind.OUT_OF_MEMORY
            used = memory_mb
            # The environment is torn down after a crash: the next invocation is cold again.
            self._configured.pop(architecture, None)
        elif duration > timeout_ms:
            error = ErrorKind.TIMEOUT
            duration = timeout_ms
            self._configured.pop(architecture, None)
        elif profile.error_rate and self._rng.random() < profile.error_rate:
            # The handler raised: the environment stays warm, as it does on Lambda.
            error = ErrorKind.ERROR
            error_type = profile.error_type
        billed = math.ceil(duration + (init or 0.0))
        return Observation(
            memory_mb=memory_mb,
            architecture=architecture,
            duration_ms=round(duration, 2),
            billed_duration_ms=billed,
            init_duration_ms=None if init is None else round(init, 2),
            max_memory_used_mb=used,
            error=error,
            error_type=error_type
            if error_type
            else ("Runtime.OutOfMemory" if error is ErrorKind.OUT_OF_MEMORY else None),
        )

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]:
        observations: list[Observation] = []
        for probe in probes:
            for _ in range(probe.count):
                observation = self.invoke_once(probe.memory_mb, probe.architecture)
                observations.append(observation)
                if observation.error is not None:
                    break
        return observations


def report_line(observation: Observation, request_id: str) -> str:
    """The text REPORT line Lambda would have written for this observation."""
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {observation.duration_ms:.2f} ms",
        f"Billed Duration: {observation.billed_duration_ms} ms",
        f"Memory Size: {observation.memory_mb} MB",
        f"Max Memory Used: {observation.max_memory_used_mb or 0} MB",
    ]
    if observation.init_duration_ms is not None:
        parts.append(f"Init Duration: {observation.init_duration_ms:.2f} ms")
    if observation.error is ErrorKind.TIMEOUT:
        parts.append("Status: timeout")
    elif observation.error is ErrorKind.OUT_OF_MEMORY:
        parts.extend(["Status: error", "Error Type: Runtime.OutOfMemory"])
    elif observation.error is ErrorKind.ERROR or observation.allowed_error:
        parts.extend(
            ["Status: error", f"Error Type: {observation.error_type or 'Runtime.ExitError'}"]
        )
    return "\t".join(parts) + "\t"

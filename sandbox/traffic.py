"""Fourteen days of traffic for a demo function, from its simulator profile.

Each four-hour bucket gets an invocation count (with a day/night swing) and a few simulated
invocations drawn exactly as the simulator draws them (duration D(m, a) × log-normal noise ×
outliers, init on cold starts, out-of-memory below ``memory_used_mb``, billed = ceil). Those
invocations become the REPORT log lines, and the bucket's CloudWatch figures are computed from
the same invocations, so logs and metrics tell one story.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from recommendations.tuning.physics import expected_duration_ms
from sandbox.fleet import DemoFunction

BUCKET = timedelta(hours=4)
WINDOW = timedelta(days=14)
# CloudWatch Logs refuses events older than 14 days; stay an hour inside that.
LOG_MARGIN = timedelta(hours=1)
SAMPLES_PER_BUCKET = 4
# Log samplers read the most recent day first; give it enough lines to judge from.
RECENT = timedelta(days=1)
RECENT_SAMPLES_PER_BUCKET = 24


@dataclass(frozen=True)
class Invocation:
    at: datetime
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_ms: float | None
    status: str  # "success", "error" or "timeout"
    error_type: str | None = None
    # The line the handler's runtime logs for a failure in the handler (not in the REPORT line).
    error_line: str | None = None

    @property
    def failed(self) -> bool:
        return self.status != "success"

    def report_line(self) -> str:
        """The text-format REPORT line Lambda writes (tab separated, as real logs are)."""
        parts = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_ms} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status != "success":
            parts.append(f"Status: {self.status}")
        if self.error_type:
            parts.append(f"Error Type: {self.error_type}")
        return "\t".join(parts)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    invocations: int
    samples: tuple[Invocation, ...]

    @property
    def errors(self) -> int:
        if not self.samples:
            return 0
        failed = sum(1 for sample in self.samples if sample.failed)
        return round(self.invocations * failed / len(self.samples))

    @property
    def duration_sum_ms(self) -> float:
        mean = sum(s.duration_ms for s in self.samples) / len(self.samples)
        return mean * self.invocations

    @property
    def duration_min_ms(self) -> float:
        return min(s.duration_ms for s in self.samples)

    @property
    def duration_max_ms(self) -> float:
        return max(s.duration_ms for s in self.samples)

    @property
    def mean_duration_ms(self) -> float:
        return sum(s.duration_ms for s in self.samples) / len(self.samples)


def _lognormal(rng: random.Random, cv: float) -> float:
    """Log-normal with mean 1 and coefficient of variation ``cv``."""
    if cv <= 0:
        return 1.0
    sigma = math.sqrt(math.log(1 + cv * cv))
    return rng.lognormvariate(-sigma * sigma / 2, sigma)


def simulate_invocation(function: DemoFunction, at: datetime, rng: random.Random) -> Invocation:
    profile = function.profile
    memory = function.memory_mb
    duration = expected_duration_ms(profile, memory, function.architecture)
    duration *= _lognormal(rng, profile.noise_cv)
    if rng.random() < profile.outlier_rate:
        duration *= profile.outlier_factor
    cold = rng.random() < function.cold_start_rate
    init = profile.init_ms * _lognormal(rng, profile.noise_cv) if cold else None
    request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    status, error_type, used = "success", None, profile.memory_used_mb
    timeout_ms = function.timeout_s * 1000.0
    if memory < profile.memory_used_mb:
        # Killed when memory runs out: part of the work done, all of the memory used.
        status, error_type, used = "error", "Runtime.OutOfMemory", memory
        duration *= rng.uniform(0.3, 0.9)
    elif duration > timeout_ms:
        status, duration = "timeout", timeout_ms
    error_line = None
    if status == "success" and function.error_lines and rng.random() < function.error_rate:
        # The handler raised: it ran part of its work and its runtime logged the error.
        status, error_line = "error", rng.choice(function.error_lines)
        duration *= rng.uniform(0.3, 1.0)
    billed = math.ceil(duration + (init or 0.0))
    return Invocation(
        at=at,
        request_id=request_id,
        duration_ms=round(duration, 2),
        billed_ms=billed,
        memory_size_mb=memory,
        max_memory_used_mb=used,
        init_ms=None if init is None else round(init, 2),
        status=status,
        error_type=error_type,
        error_line=error_line,
    )


def _daily_swing(at: datetime) -> float:
    """Busier in the (UTC) afternoon than at night; averages 1 over a day."""
    return 1 + 0.5 * math.sin((at.hour - 8) / 24 * 2 * math.pi)


def generate(function: DemoFunction, end: datetime, seed: int) -> list[Bucket]:
    """Buckets covering the 14 days before ``end`` (the oldest bucket first)."""
    rng = random.Random(f"{seed}:{function.name}")
    start = end - WINDOW + LOG_MARGIN
    buckets: list[Bucket] = []
    per_bucket = function.invocations_per_day * BUCKET / timedelta(days=1)
    moment = start
    while moment + BUCKET <= end:
        expected = per_bucket * _daily_swing(moment)
        if moment >= end - RECENT:
            expected *= function.last_day_traffic_factor
        count = max(0, round(expected * rng.uniform(0.9, 1.1)))
        if function.invocations_per_day == 0:
            count = 0  # nobody calls it
        elif function.invocations_per_day < 12:
            # A daily job runs once a day, at 03:00.
            run_at = moment.replace(hour=3, minute=0, second=0, microsecond=0)
            if run_at < moment:
                run_at += timedelta(days=1)
            count = 1 if run_at < moment + BUCKET else 0
        per_bucket_samples = min(
            RECENT_SAMPLES_PER_BUCKET if moment >= end - RECENT else SAMPLES_PER_BUCKET, count
        )
        samples = tuple(
            simulate_invocation(
                function, moment + BUCKET * (i + rng.random()) / per_bucket_samples, rng
            )
            for i in range(per_bucket_samples)
        )
        buckets.append(Bucket(start=moment, invocations=count, samples=samples))
        moment += BUCKET
    return buckets

"""What verification compares: invocations, or hourly buckets of them, before and after.

CloudWatch gives hourly figures (counts, sums, percentiles); REPORT lines give single
invocations. Both end up as :class:`HourlyBucket`s, the unit the bootstrap resamples: an hour
keeps together the invocations that shared a downstream's mood, so intervals are not fooled
by noise that comes in bursts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pydantic import Field, model_validator

from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, Architecture, Frozen
from recommendations.tuning.observation import ErrorKind

HOUR = timedelta(hours=1)


class Invocation(Frozen):
    """One invocation, as its REPORT line (and its log's error) tells it."""

    at: datetime
    memory_mb: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    architecture: Architecture
    duration_ms: float = Field(ge=0)
    # Includes billed init on a cold start, as the REPORT line's Billed Duration does.
    billed_duration_ms: float = Field(ge=0)
    # Present only on a cold start.
    init_duration_ms: float | None = Field(default=None, ge=0)
    error: ErrorKind | None = None

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None


class HourlyBucket(Frozen):
    """One hour of one configuration's traffic.

    ``durations_ms`` holds every invocation's duration when REPORT lines were read; otherwise
    the hour's CloudWatch percentiles stand in (less exact: see docs/verification.md).
    """

    start: datetime
    memory_mb: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    architecture: Architecture
    invocations: int = Field(ge=0)
    billed_duration_ms_total: float = Field(ge=0)
    # Errors of any kind, timeouts and out-of-memory kills included (CloudWatch's Errors).
    errors: int = Field(default=0, ge=0)
    timeouts: int = Field(default=0, ge=0)
    out_of_memory: int = Field(default=0, ge=0)
    # Throttled requests never ran, so they are not among ``invocations``.
    throttles: int = Field(default=0, ge=0)
    cold_starts: int = Field(default=0, ge=0)
    init_duration_ms_total: float = Field(default=0.0, ge=0)
    durations_ms: tuple[float, ...] | None = None
    p50_ms: float | None = Field(default=None, ge=0)
    p90_ms: float | None = Field(default=None, ge=0)
    p99_ms: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _counts_fit(self) -> HourlyBucket:
        if max(self.errors, self.cold_starts) > self.invocations:
            raise ValueError("errors and cold starts cannot exceed invocations")
        if self.timeouts + self.out_of_memory > self.errors:
            raise ValueError("timeouts and out-of-memory kills are errors too")
        if self.durations_ms is not None and len(self.durations_ms) != self.invocations:
            raise ValueError("durations_ms needs one duration per invocation")
        return self

    @property
    def config(self) -> tuple[int, Architecture]:
        return (self.memory_mb, self.architecture)

    @property
    def hour_of_week(self) -> int:
        start = self.start.astimezone(UTC)
        return start.weekday() * 24 + start.hour


def hour_start(at: datetime) -> datetime:
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def bucket_invocations(invocations: Iterable[Invocation]) -> list[HourlyBucket]:
    """Group invocations by hour and configuration, in time order."""
    groups: dict[tuple[datetime, int, Architecture], list[Invocation]] = {}
    for invocation in invocations:
        key = (hour_start(invocation.at), invocation.memory_mb, invocation.architecture)
        groups.setdefault(key, []).append(invocation)
    buckets: list[HourlyBucket] = []
    for (start, memory_mb, architecture), members in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1], item[0][2].value)
    ):
        cold = [m for m in members if m.init_duration_ms is not None]
        buckets.append(
            HourlyBucket(
                start=start,
                memory_mb=memory_mb,
                architecture=architecture,
                invocations=len(members),
                billed_duration_ms_total=sum(m.billed_duration_ms for m in members),
                errors=sum(1 for m in members if m.error is not None),
                timeouts=sum(1 for m in members if m.error is ErrorKind.TIMEOUT),
                out_of_memory=sum(1 for m in members if m.error is ErrorKind.OUT_OF_MEMORY),
                cold_starts=len(cold),
                init_duration_ms_total=sum(m.init_duration_ms or 0.0 for m in cold),
                durations_ms=tuple(m.duration_ms for m in members),
            )
        )
    return buckets


def total_invocations(buckets: Iterable[HourlyBucket]) -> int:
    return sum(b.invocations for b in buckets)


def span(buckets: Iterable[HourlyBucket]) -> timedelta:
    """From the first bucket's start to the last bucket's end (zero for no buckets)."""
    starts = [b.start for b in buckets]
    if not starts:
        return timedelta(0)
    return max(starts) - min(starts) + HOUR

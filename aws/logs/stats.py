"""Per-function figures read from REPORT records, however they were gathered."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from aws.logs.report_parser import ReportRecord
from recommendations.snapshot import ErrorTypeCount


class LogStats(BaseModel):
    """What REPORT records say about one function over ``sample_size`` invocations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_size: int = Field(ge=0)
    billed_duration_avg_ms: float | None = None
    max_memory_used_mb: int | None = None
    memory_used_p99_mb: int | None = None
    cold_starts: int | None = None
    init_duration_avg_ms: float | None = None
    init_duration_max_ms: float | None = None
    restore_duration_avg_ms: float | None = None
    timeouts: int | None = None
    out_of_memory: int | None = None
    # Handler duration (REPORT "Duration", without init) percentiles over the same records.
    # Not part of ``as_stats_fields``: CloudWatch's figures over the whole window come first,
    # and the scan uses these only where CloudWatch has none (see ``duration_percentiles``).
    duration_p50_ms: float | None = None
    duration_p90_ms: float | None = None
    duration_p99_ms: float | None = None
    # Error types named in the log lines read with these records (None: not read).
    top_error_types: tuple[ErrorTypeCount, ...] | None = None

    def duration_percentiles(self) -> dict[str, float]:
        """The known p50/p90/p99 as FunctionStats fields."""
        known = {
            "duration_p50_ms": self.duration_p50_ms,
            "duration_p90_ms": self.duration_p90_ms,
            "duration_p99_ms": self.duration_p99_ms,
        }
        return {key: value for key, value in known.items() if value is not None}

    def as_stats_fields(self) -> dict[str, object]:
        """The FunctionStats fields these figures fill."""
        return {
            "log_sample_invocations": self.sample_size,
            "billed_duration_avg_ms": self.billed_duration_avg_ms,
            "max_memory_used_mb": self.max_memory_used_mb,
            "memory_used_p99_mb": self.memory_used_p99_mb,
            "cold_starts": self.cold_starts,
            "init_duration_avg_ms": self.init_duration_avg_ms,
            "init_duration_max_ms": self.init_duration_max_ms,
            "restore_duration_avg_ms": self.restore_duration_avg_ms,
            "timeouts": self.timeouts,
            "out_of_memory": self.out_of_memory,
            "top_error_types": self.top_error_types,
        }


def nearest_rank_percentile(values: Sequence[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def stats_from_records(records: Sequence[ReportRecord]) -> LogStats:
    """Figures over parsed records (the sampling path and Invoke log tails)."""
    if not records:
        return LogStats(sample_size=0)
    used = [float(record.max_memory_used_mb) for record in records]
    inits = [record.init_duration_ms for record in records if record.init_duration_ms is not None]
    restores = [
        record.restore_duration_ms for record in records if record.restore_duration_ms is not None
    ]
    p99 = nearest_rank_percentile(used, 99)
    durations = [record.duration_ms for record in records]
    return LogStats(
        sample_size=len(records),
        billed_duration_avg_ms=_mean([float(record.billed_duration_ms) for record in records]),
        max_memory_used_mb=int(max(used)),
        memory_used_p99_mb=None if p99 is None else int(p99),
        cold_starts=sum(1 for record in records if record.is_cold),
        init_duration_avg_ms=_mean(inits),
        init_duration_max_ms=max(inits) if inits else None,
        restore_duration_avg_ms=_mean(restores),
        timeouts=sum(1 for record in records if record.timed_out),
        out_of_memory=sum(1 for record in records if record.out_of_memory),
        duration_p50_ms=nearest_rank_percentile(durations, 50),
        duration_p90_ms=nearest_rank_percentile(durations, 90),
        duration_p99_ms=nearest_rank_percentile(durations, 99),
    )

"""Why an alarm fired or the bill jumped, in words, from what tunebot knows about a function.

Pure: given the alarm's figures (:class:`AlarmSignal`), the function's snapshot and the engine's
report, :func:`diagnose_alarm` names the likely causes with their evidence and picks the
recommendations that address them. :func:`explain_cost_change` does the same for one function's
usage before and during a cost anomaly. Missing data makes a cause "unknown", never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot

VCPU_MEMORY_MB = 1769
# A stream batch this small makes each invocation carry few records.
SMALL_STREAM_BATCH = 100


class CauseKind(StrEnum):
    NEAR_TIMEOUT = "near_timeout"
    UNDER_PROVISIONED = "under_provisioned"
    MEMORY_PRESSURE = "memory_pressure"
    COLD_STARTS = "cold_starts"
    LONG_TAIL = "long_tail"
    TIMEOUTS = "timeouts"
    OUT_OF_MEMORY = "out_of_memory"
    CODE_ERRORS = "code_errors"
    RESERVED_CONCURRENCY = "reserved_concurrency"
    ACCOUNT_CONCURRENCY = "account_concurrency"
    SMALL_BATCHES = "small_batches"
    ONE_BATCH_PER_SHARD = "one_batch_per_shard"
    POISON_RECORD = "poison_record"
    SLOW_PROCESSING = "slow_processing"
    ASYNC_BACKLOG = "async_backlog"
    ASYNC_DROPS = "async_drops"
    TRAFFIC_SPIKE = "traffic_spike"
    PROVISIONED_TOO_LOW = "provisioned_too_low"


class AlarmSignal(Frozen):
    """What the alarm measured, as far as the alarm says."""

    metric_names: tuple[str, ...] = Field(description="Lambda metrics the alarm reads")
    statistic: str | None = None
    threshold: float | None = None
    observed_value: float | None = None
    band_upper: float | None = None
    period_s: int | None = None
    is_expression: bool = False

    @property
    def primary_metric(self) -> str | None:
        return self.metric_names[0] if self.metric_names else None


class LikelyCause(Frozen):
    kind: CauseKind
    summary: str
    evidence: tuple[Evidence, ...] = ()
    confidence: Confidence


class AlertDiagnosis(Frozen):
    function: str
    causes: tuple[LikelyCause, ...] = ()
    # What could not be judged, in words (e.g. "no REPORT lines were read").
    unknowns: tuple[str, ...] = ()
    # Recommendations addressing this alarm first, then the function's others.
    relevant: tuple[Recommendation, ...] = ()
    others: tuple[Recommendation, ...] = ()

    @property
    def headline(self) -> str:
        if self.causes:
            return self.causes[0].summary
        return "No likely cause found in the data tunebot has for this function."


# Which recommendation categories address which alarm metric.
RELEVANT_CATEGORIES: dict[str, tuple[Category, ...]] = {
    "Duration": (Category.MEMORY, Category.ARCHITECTURE, Category.COLD_START, Category.TIMEOUT),
    "PostRuntimeExtensionsDuration": (Category.MEMORY,),
    "Errors": (Category.TIMEOUT, Category.MEMORY, Category.ASYNC),
    "Throttles": (Category.CONCURRENCY,),
    "ConcurrentExecutions": (Category.CONCURRENCY,),
    "UnreservedConcurrentExecutions": (Category.CONCURRENCY,),
    "IteratorAge": (Category.BATCHING, Category.MEMORY, Category.CONCURRENCY),
    "OffsetLag": (Category.BATCHING, Category.MEMORY, Category.CONCURRENCY),
    "AsyncEventAge": (Category.ASYNC, Category.CONCURRENCY, Category.MEMORY),
    "AsyncEventsDropped": (Category.ASYNC, Category.CONCURRENCY),
    "DeadLetterErrors": (Category.ASYNC,),
    "DestinationDeliveryFailures": (Category.ASYNC,),
    "Invocations": (Category.MEMORY, Category.ARCHITECTURE, Category.CONCURRENCY),
    "ProvisionedConcurrencySpilloverInvocations": (Category.CONCURRENCY, Category.COLD_START),
    "ProvisionedConcurrencyUtilization": (Category.CONCURRENCY, Category.COLD_START),
    "init_duration": (Category.COLD_START, Category.PACKAGE, Category.MEMORY),
    "memory_utilization": (Category.MEMORY,),
}


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _observed_ms(signal: AlarmSignal) -> float | None:
    return signal.observed_value if signal.primary_metric == "Duration" else None


def _near_timeout(fn: FunctionSnapshot, signal: AlarmSignal) -> LikelyCause | None:
    timeout_ms = fn.timeout_s * 1000.0
    observed = _observed_ms(signal)
    stats = fn.stats
    if observed is not None and observed >= 0.9 * timeout_ms:
        return LikelyCause(
            kind=CauseKind.NEAR_TIMEOUT,
            summary=(
                f"Invocations run into the {fn.timeout_s} s timeout: the alarm saw "
                f"{observed:,.0f} ms."
            ),
            evidence=(
                Evidence(label="alarm value", value=observed, unit="ms", source="alarm"),
                Evidence(label="timeout", value=fn.timeout_s, unit="s", source="config"),
            ),
            confidence=Confidence.HIGH,
        )
    if stats is not None and stats.timeouts:
        return LikelyCause(
            kind=CauseKind.NEAR_TIMEOUT,
            summary=(
                f"Some invocations hit the {fn.timeout_s} s timeout ({stats.timeouts:,} in the "
                "REPORT lines read), which lifts the high percentiles."
            ),
            evidence=(Evidence(label="timeouts", value=stats.timeouts, source="logs"),),
            confidence=Confidence.MEDIUM,
        )
    return None


def _memory_recommendation(report: Sequence[Recommendation]) -> Recommendation | None:
    for rec in report:
        change = rec.change
        if change is not None and change.kind == "memory" and change.after > change.before:
            return rec
    return None


def _under_provisioned(fn: FunctionSnapshot, recs: Sequence[Recommendation]) -> LikelyCause | None:
    stats = fn.stats
    raise_memory = _memory_recommendation(recs)
    used = stats.max_memory_used_mb if stats is not None else None
    pressure = used is not None and used >= 0.8 * fn.memory_mb
    if fn.memory_mb >= VCPU_MEMORY_MB and raise_memory is None:
        return None
    if raise_memory is None and not pressure:
        return None
    vcpu = fn.memory_mb / VCPU_MEMORY_MB
    evidence = [
        Evidence(label="memory", value=fn.memory_mb, unit="MB", source="config"),
        Evidence(label="CPU share", value=round(min(vcpu, 6.0), 2), unit="vCPU", source="config"),
    ]
    if used is not None:
        evidence.append(Evidence(label="max memory used", value=used, unit="MB", source="logs"))
    summary = f"Under-provisioned: at {fn.memory_mb} MB the function gets {min(vcpu, 6.0):.2f} vCPU"
    if pressure and used is not None:
        summary += f" and uses {used} MB of it, so garbage collection slows it down"
    if raise_memory is not None and raise_memory.change is not None:
        summary += f"; tunebot recommends {getattr(raise_memory.change, 'after', '')} MB"
    return LikelyCause(
        kind=CauseKind.UNDER_PROVISIONED,
        summary=summary + ".",
        evidence=tuple(evidence),
        confidence=Confidence.HIGH if raise_memory is not None else Confidence.MEDIUM,
    )


def _cold_starts(fn: FunctionSnapshot, signal: AlarmSignal) -> LikelyCause | None:
    stats = fn.stats
    if stats is None or stats.cold_start_rate is None or stats.init_duration_avg_ms is None:
        return None
    rate = stats.cold_start_rate
    init = stats.init_duration_avg_ms
    tail_statistic = (signal.statistic or "").lower().startswith(("p", "tm", "max"))
    if rate < 0.01 or init < 200 or not (tail_statistic or rate >= 0.2):
        return None
    return LikelyCause(
        kind=CauseKind.COLD_STARTS,
        summary=(
            f"Cold starts: {_pct(rate)} of invocations start cold and spend {init:,.0f} ms in "
            "init, which lands in the high percentiles."
        ),
        evidence=(
            Evidence(label="cold start rate", value=round(rate, 4), source="logs"),
            Evidence(label="average init", value=init, unit="ms", source="logs"),
        ),
        confidence=Confidence.MEDIUM,
    )


def _long_tail(fn: FunctionSnapshot) -> LikelyCause | None:
    stats = fn.stats
    if stats is None or not stats.duration_p50_ms or stats.duration_p99_ms is None:
        return None
    ratio = stats.duration_p99_ms / stats.duration_p50_ms
    if ratio < 3:
        return None
    return LikelyCause(
        kind=CauseKind.LONG_TAIL,
        summary=(
            f"A long tail: p99 is {ratio:.1f}× the median ({stats.duration_p99_ms:,.0f} ms vs "
            f"{stats.duration_p50_ms:,.0f} ms), typical of waiting on a slow downstream call."
        ),
        evidence=(
            Evidence(
                label="p50 duration", value=stats.duration_p50_ms, unit="ms", source="metrics"
            ),
            Evidence(
                label="p99 duration", value=stats.duration_p99_ms, unit="ms", source="metrics"
            ),
        ),
        confidence=Confidence.LOW,
    )


def _duration_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    return [
        _near_timeout(fn, signal),
        _under_provisioned(fn, recs),
        _cold_starts(fn, signal),
        _long_tail(fn),
    ]


def _error_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    stats = fn.stats
    if stats is None or stats.log_sample_invocations is None:
        return []
    causes: list[LikelyCause | None] = []
    errors = stats.errors
    if stats.timeouts:
        share = f" ({_pct(min(1.0, stats.timeouts / errors))} of errors)" if errors else ""
        causes.append(
            LikelyCause(
                kind=CauseKind.TIMEOUTS,
                summary=(
                    f"Errors are timeouts: {stats.timeouts:,} invocations ran past the "
                    f"{fn.timeout_s} s timeout{share}."
                ),
                evidence=(
                    Evidence(label="timeouts", value=stats.timeouts, source="logs"),
                    Evidence(label="timeout", value=fn.timeout_s, unit="s", source="config"),
                ),
                confidence=Confidence.HIGH,
            )
        )
    if stats.out_of_memory:
        causes.append(
            LikelyCause(
                kind=CauseKind.OUT_OF_MEMORY,
                summary=(
                    f"Errors are out-of-memory kills: {stats.out_of_memory:,} invocations used all "
                    f"{fn.memory_mb} MB."
                ),
                evidence=(
                    Evidence(label="out of memory", value=stats.out_of_memory, source="logs"),
                    Evidence(label="memory", value=fn.memory_mb, unit="MB", source="config"),
                ),
                confidence=Confidence.HIGH,
            )
        )
    if not causes:
        causes.append(
            LikelyCause(
                kind=CauseKind.CODE_ERRORS,
                summary=(
                    "The errors are not timeouts or out-of-memory kills: they come from the "
                    "function's code or what it calls; its logs say which."
                ),
                evidence=(
                    Evidence(
                        label="REPORT lines read", value=stats.log_sample_invocations, source="logs"
                    ),
                ),
                confidence=Confidence.MEDIUM,
            )
        )
    return causes


def _throttle_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    stats = fn.stats
    peak = stats.concurrent_executions_max if stats is not None else None
    reserved = fn.reserved_concurrency
    if reserved == 0:
        return [
            LikelyCause(
                kind=CauseKind.RESERVED_CONCURRENCY,
                summary="Reserved concurrency is 0: every invocation of the function is throttled.",
                evidence=(Evidence(label="reserved concurrency", value=0, source="config"),),
                confidence=Confidence.HIGH,
            )
        ]
    if reserved is not None:
        evidence = [Evidence(label="reserved concurrency", value=reserved, source="config")]
        confidence = Confidence.MEDIUM
        if peak is not None:
            evidence.append(Evidence(label="peak concurrency", value=peak, source="metrics"))
            confidence = Confidence.HIGH if peak >= 0.9 * reserved else Confidence.LOW
        return [
            LikelyCause(
                kind=CauseKind.RESERVED_CONCURRENCY,
                summary=(
                    f"Throttled against its reserved concurrency of {reserved}"
                    + (f" (peak {peak:,.0f} concurrent)" if peak is not None else "")
                    + "."
                ),
                evidence=tuple(evidence),
                confidence=confidence,
            )
        ]
    return [
        LikelyCause(
            kind=CauseKind.ACCOUNT_CONCURRENCY,
            summary=(
                "No reserved concurrency: the function is throttled by the account's regional "
                "concurrency limit, shared with every other function, or by the scaling rate."
            ),
            evidence=(
                (Evidence(label="peak concurrency", value=peak, source="metrics"),)
                if peak is not None
                else ()
            ),
            confidence=Confidence.MEDIUM,
        )
    ]


def _iterator_age_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    streams = [m for m in fn.event_source_mappings if m.kind.is_stream or m.kind.value == "kafka"]
    causes: list[LikelyCause | None] = []
    for mapping in streams:
        source = mapping.source_arn.rsplit("/", 1)[-1]
        if mapping.batch_size is not None and mapping.batch_size < SMALL_STREAM_BATCH:
            causes.append(
                LikelyCause(
                    kind=CauseKind.SMALL_BATCHES,
                    summary=(
                        f"Small batches: the {source} trigger hands {mapping.batch_size} records "
                        "to each invocation, so the function falls behind the stream."
                    ),
                    evidence=(
                        Evidence(label="batch size", value=mapping.batch_size, source="config"),
                    ),
                    confidence=Confidence.MEDIUM,
                )
            )
        if mapping.retries_forever and fn.stats is not None and fn.stats.errors:
            causes.append(
                LikelyCause(
                    kind=CauseKind.POISON_RECORD,
                    summary=(
                        f"A failing record blocks its shard: the {source} trigger retries until "
                        f"the record expires and the function had {fn.stats.errors:,} errors."
                    ),
                    evidence=(Evidence(label="errors", value=fn.stats.errors, source="metrics"),),
                    confidence=Confidence.MEDIUM,
                )
            )
        if (mapping.parallelization_factor or 1) == 1 and mapping.kind.is_stream:
            causes.append(
                LikelyCause(
                    kind=CauseKind.ONE_BATCH_PER_SHARD,
                    summary=(
                        f"One batch per shard at a time on {source}: a parallelization factor "
                        "up to 10 processes a shard's batches concurrently."
                    ),
                    evidence=(Evidence(label="parallelization factor", value=1, source="config"),),
                    confidence=Confidence.LOW,
                )
            )
    under = _under_provisioned(fn, recs)
    if under is not None:
        causes.append(under.model_copy(update={"kind": CauseKind.SLOW_PROCESSING}))
    return causes


def _async_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    stats = fn.stats
    config = fn.effective_async_config
    causes: list[LikelyCause | None] = []
    if signal.primary_metric == "AsyncEventsDropped" and not fn.has_async_failure_handling:
        causes.append(
            LikelyCause(
                kind=CauseKind.ASYNC_DROPS,
                summary=(
                    f"Failed async events are dropped after {config.maximum_retry_attempts} "
                    "retries: the function has no on-failure destination or dead-letter queue."
                ),
                evidence=(
                    Evidence(
                        label="retry attempts", value=config.maximum_retry_attempts, source="config"
                    ),
                ),
                confidence=Confidence.HIGH,
            )
        )
    if stats is not None and (stats.throttles or stats.errors):
        causes.append(
            LikelyCause(
                kind=CauseKind.ASYNC_BACKLOG,
                summary=(
                    "Async events wait because invocations are throttled or failing and retried "
                    f"({stats.throttles or 0:,} throttles, {stats.errors or 0:,} errors)."
                ),
                evidence=(
                    Evidence(label="throttles", value=stats.throttles or 0, source="metrics"),
                    Evidence(label="errors", value=stats.errors or 0, source="metrics"),
                ),
                confidence=Confidence.MEDIUM,
            )
        )
    return causes


def _traffic_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    stats = fn.stats
    if (
        stats is None
        or stats.invocations is None
        or signal.observed_value is None
        or not signal.period_s
        or (signal.statistic or "Sum") != "Sum"
    ):
        return []
    usual = stats.invocations / (stats.window_days * 86400.0) * signal.period_s
    if usual <= 0 or signal.observed_value < 2 * usual:
        return []
    return [
        LikelyCause(
            kind=CauseKind.TRAFFIC_SPIKE,
            summary=(
                f"A traffic spike: {signal.observed_value:,.0f} invocations in "
                f"{signal.period_s} s against a usual {usual:,.1f} "
                f"({signal.observed_value / usual:,.1f}×)."
            ),
            evidence=(
                Evidence(label="alarm value", value=signal.observed_value, source="alarm"),
                Evidence(label="usual per period", value=round(usual, 2), source="metrics"),
            ),
            confidence=Confidence.MEDIUM,
        )
    ]


def _provisioned_causes(
    fn: FunctionSnapshot, signal: AlarmSignal, recs: Sequence[Recommendation]
) -> list[LikelyCause | None]:
    if not fn.provisioned_concurrency:
        return []
    return [
        LikelyCause(
            kind=CauseKind.PROVISIONED_TOO_LOW,
            summary=(
                f"Provisioned concurrency of {fn.provisioned_concurrency} is not enough at peak: "
                "the rest spill over to on-demand environments and start cold."
            ),
            evidence=(
                Evidence(
                    label="provisioned concurrency",
                    value=fn.provisioned_concurrency,
                    source="config",
                ),
            ),
            confidence=Confidence.MEDIUM,
        )
    ]


_Diagnoser = Callable[
    [FunctionSnapshot, AlarmSignal, Sequence[Recommendation]], list[LikelyCause | None]
]

DIAGNOSERS: dict[str, _Diagnoser] = {
    "Duration": _duration_causes,
    "Errors": _error_causes,
    "Throttles": _throttle_causes,
    "ConcurrentExecutions": _throttle_causes,
    "IteratorAge": _iterator_age_causes,
    "OffsetLag": _iterator_age_causes,
    "AsyncEventAge": _async_causes,
    "AsyncEventsDropped": _async_causes,
    "Invocations": _traffic_causes,
    "ProvisionedConcurrencySpilloverInvocations": _provisioned_causes,
}

_CONFIDENCE_ORDER = {Confidence.HIGH: 0, Confidence.MEDIUM: 1, Confidence.LOW: 2}


def diagnose_alarm(
    fn: FunctionSnapshot,
    signal: AlarmSignal,
    recommendations: Sequence[Recommendation] = (),
) -> AlertDiagnosis:
    """The likely causes of an alarm on ``fn`` and the recommendations that address them.

    ``recommendations`` are the engine's for this function, ranked; they are split into those
    relevant to the alarm's metrics and the rest, each keeping its rank.
    """
    found: list[LikelyCause] = []
    for metric in signal.metric_names:
        diagnoser = DIAGNOSERS.get(metric)
        if diagnoser is None:
            continue
        for cause in diagnoser(fn, signal, recommendations):
            if cause is not None and all(cause.kind != seen.kind for seen in found):
                found.append(cause)
    found.sort(key=lambda cause: _CONFIDENCE_ORDER[cause.confidence])

    unknowns: list[str] = []
    if fn.stats is None:
        unknowns.append("No metrics or logs were read for this function.")
    elif fn.stats.log_sample_invocations is None:
        unknowns.append("No REPORT log lines were read, so timeouts and memory use are unknown.")
    if not any(metric in DIAGNOSERS for metric in signal.metric_names):
        names = ", ".join(signal.metric_names) or "its metrics"
        unknowns.append(f"tunebot has no specific diagnosis for alarms on {names}.")

    categories = {
        category
        for metric in signal.metric_names
        for category in RELEVANT_CATEGORIES.get(metric, ())
    }
    relevant = tuple(rec for rec in recommendations if rec.category in categories)
    others = tuple(rec for rec in recommendations if rec.category not in categories)
    return AlertDiagnosis(
        function=fn.name,
        causes=tuple(found),
        unknowns=tuple(unknowns),
        relevant=relevant,
        others=others,
    )


class UsageWindow(Frozen):
    """One function's usage over a window, from CloudWatch sums."""

    invocations: float | None = None
    duration_sum_ms: float | None = None

    @property
    def average_duration_ms(self) -> float | None:
        if not self.invocations or self.duration_sum_ms is None:
            return None
        return self.duration_sum_ms / self.invocations

    def gb_seconds(self, memory_mb: int) -> float | None:
        if self.duration_sum_ms is None:
            return None
        return self.duration_sum_ms / 1000.0 * memory_mb / 1024.0


def _ratio(after: float | None, before: float | None) -> float | None:
    if after is None or before is None or before <= 0:
        return None
    return after / before


def explain_cost_change(
    before: UsageWindow,
    during: UsageWindow,
    *,
    memory_mb: int,
    last_modified: datetime | None,
    window_start: datetime,
    window_end: datetime,
    significant: float = 1.25,
) -> tuple[str, ...]:
    """What changed for one function between two equal windows, in short phrases.

    ``significant`` is the ratio from which a change in traffic or duration is worth naming.
    """
    reasons: list[str] = []
    traffic = _ratio(during.invocations, before.invocations)
    if traffic is not None and (traffic >= significant or traffic <= 1 / significant):
        reasons.append(
            f"traffic {traffic:.1f}× ({before.invocations:,.0f} → {during.invocations:,.0f} "
            "requests)"
        )
    elif not before.invocations and during.invocations:
        reasons.append(f"new traffic ({during.invocations:,.0f} requests, none before)")
    duration = _ratio(during.average_duration_ms, before.average_duration_ms)
    if duration is not None and (duration >= significant or duration <= 1 / significant):
        reasons.append(
            f"average duration {duration:.1f}× ({before.average_duration_ms:,.0f} → "
            f"{during.average_duration_ms:,.0f} ms)"
        )
    compared_from = window_start - (window_end - window_start)
    if last_modified is not None and compared_from <= last_modified < window_end:
        reasons.append(
            f"deployed or reconfigured {last_modified:%Y-%m-%d %H:%M} UTC (memory now "
            f"{memory_mb} MB)"
        )
    return tuple(reasons)


def describe_effect(
    before: UsageWindow,
    after: UsageWindow,
    *,
    memory_before_mb: int | None = None,
    memory_after_mb: int | None = None,
    minimum_invocations: float = 10,
) -> str:
    """A change's measured effect, comparing equal windows before and since it was applied.

    With the memory sizes (a memory change), compute per invocation is compared in GB-s, which
    is what Lambda bills; otherwise the average duration.
    """
    if (after.invocations or 0) < minimum_invocations:
        return "too early to measure (too few invocations since)"
    if (before.invocations or 0) < minimum_invocations:
        return "no baseline (too few invocations before)"
    parts: list[str] = []
    duration_before, duration_after = before.average_duration_ms, after.average_duration_ms
    if duration_before is not None and duration_after is not None:
        parts.append(f"average duration {duration_before:,.0f} → {duration_after:,.0f} ms")
    if (
        memory_before_mb is not None
        and memory_after_mb is not None
        and duration_before
        and duration_after is not None
    ):
        gbs_before = duration_before / 1000 * memory_before_mb / 1024
        gbs_after = duration_after / 1000 * memory_after_mb / 1024
        change = (gbs_after - gbs_before) / gbs_before
        parts.append(f"compute per invocation {change:+.0%}")
    traffic = _ratio(after.invocations, before.invocations)
    if traffic is not None:
        parts.append(f"traffic {traffic:.2g}×")
    return ", ".join(parts) or "no duration data"

"""Why a Duration alarm fires: the timeout, too little CPU, cold starts, a slow downstream."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.diagnoses.base import AlarmSignal, CauseKind, Diagnosis, LikelyCause, percent
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import FunctionSnapshot

VCPU_MEMORY_MB = 1769
# An alarm value this close to the timeout means invocations run into it.
NEAR_TIMEOUT_SHARE = 0.9
# Max memory used at this share of the configured memory is pressure (garbage collection).
MEMORY_PRESSURE_SHARE = 0.8
# Cold starts matter to a percentile alarm from this rate and this init time.
COLD_START_RATE_MIN = 0.01
COLD_START_INIT_MIN_MS = 200.0
# ...and to an average alarm only when this common.
COLD_START_RATE_FOR_AVERAGES = 0.2
# p99 this many times the median is a long tail.
LONG_TAIL_RATIO = 3.0


class NearTimeout(Diagnosis):
    """Invocations run into the function's timeout.

    What it checks:
    The alarm's value against the timeout (within 10 %), or timeouts counted in the REPORT lines
    read.

    Why it matters:
    An invocation that hits the timeout is killed and billed for the whole timeout, and it lifts
    the high percentiles the alarm watches.

    What to do:
    Find what the slow invocations wait for (their logs and traces); give the function more
    memory if it is CPU-bound, or a timeout that fits its callers.
    """

    diagnosis_id = "DX-001"
    name = "Near the timeout"
    kind = CauseKind.NEAR_TIMEOUT
    addressed_by = (Category.MEMORY, Category.TIMEOUT)
    metrics = ("Duration",)
    needs = ("timeout_s", "stats.timeouts")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        timeout_ms = fn.timeout_s * 1000.0
        observed = signal.observed_value if signal.primary_metric == "Duration" else None
        if observed is not None and observed >= NEAR_TIMEOUT_SHARE * timeout_ms:
            return self.cause(
                f"Invocations run into the {fn.timeout_s} s timeout: the alarm saw "
                f"{observed:,.0f} ms.",
                Confidence.HIGH,
                Evidence(label="alarm value", value=observed, unit="ms", source="alarm"),
                Evidence(label="timeout", value=fn.timeout_s, unit="s", source="config"),
            )
        if fn.stats is not None and fn.stats.timeouts:
            return self.cause(
                f"Some invocations hit the {fn.timeout_s} s timeout ({fn.stats.timeouts:,} in "
                "the REPORT lines read), which lifts the high percentiles.",
                Confidence.MEDIUM,
                Evidence(label="timeouts", value=fn.stats.timeouts, source="logs"),
            )
        return None


def memory_increase(recommendations: Sequence[Recommendation]) -> Recommendation | None:
    for rec in recommendations:
        change = rec.change
        if change is not None and change.kind == "memory" and change.after > change.before:
            return rec
    return None


def under_provisioned(
    fn: FunctionSnapshot, recommendations: Sequence[Recommendation]
) -> tuple[str, Confidence, tuple[Evidence, ...]] | None:
    """Too little CPU for the work (shared by the duration and the stream diagnoses)."""
    stats = fn.stats
    raise_memory = memory_increase(recommendations)
    used = stats.max_memory_used_mb if stats is not None else None
    pressure = used is not None and used >= MEMORY_PRESSURE_SHARE * fn.memory_mb
    if fn.memory_mb >= VCPU_MEMORY_MB and raise_memory is None:
        return None
    if raise_memory is None and not pressure:
        return None
    vcpu = min(fn.memory_mb / VCPU_MEMORY_MB, 6.0)
    evidence = [
        Evidence(label="memory", value=fn.memory_mb, unit="MB", source="config"),
        Evidence(label="CPU share", value=round(vcpu, 2), unit="vCPU", source="config"),
    ]
    if used is not None:
        evidence.append(Evidence(label="max memory used", value=used, unit="MB", source="logs"))
    summary = f"Under-provisioned: at {fn.memory_mb} MB the function gets {vcpu:.2f} vCPU"
    if pressure and used is not None:
        summary += f" and uses {used} MB of it, so garbage collection slows it down"
    if raise_memory is not None and raise_memory.change is not None:
        summary += f"; tunebot recommends {getattr(raise_memory.change, 'after', '')} MB"
    confidence = Confidence.HIGH if raise_memory is not None else Confidence.MEDIUM
    return summary + ".", confidence, tuple(evidence)


class UnderProvisioned(Diagnosis):
    """The function has too little CPU for its work.

    What it checks:
    Memory below one vCPU (1,769 MB) with memory pressure (max memory used at 80 % or more), or
    a memory increase that tunebot's rules recommend for the function.

    Why it matters:
    Lambda gives CPU in proportion to memory. A CPU-bound function below one vCPU runs slower
    than it needs to, and garbage collection under memory pressure slows it further.

    What to do:
    Apply the memory increase (a benchmark shows the cheapest size that is fast enough).
    """

    diagnosis_id = "DX-002"
    name = "Under-provisioned"
    kind = CauseKind.UNDER_PROVISIONED
    addressed_by = (Category.MEMORY,)
    metrics = ("Duration",)
    needs = ("memory_mb", "stats.max_memory_used_mb")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        found = under_provisioned(fn, recommendations)
        if found is None:
            return None
        summary, confidence, evidence = found
        return self.cause(summary, confidence, *evidence)


class ColdStarts(Diagnosis):
    """Cold starts with a long init land in the high percentiles.

    What it checks:
    The cold-start rate and average init duration from the REPORT lines: at least 1 % cold with
    200 ms of init for a percentile or maximum alarm, or at least 20 % cold for an average.

    Why it matters:
    Every cold start adds its init duration to the invocation, which a percentile alarm sees
    first; init is billed too.

    What to do:
    Shrink the package and what runs at import, use SnapStart where the runtime has it, or keep
    environments warm with provisioned concurrency where traffic is steady.
    """

    diagnosis_id = "DX-003"
    name = "Cold starts"
    kind = CauseKind.COLD_STARTS
    addressed_by = (Category.COLD_START, Category.PACKAGE)
    metrics = ("Duration",)
    needs = ("stats.cold_start_rate", "stats.init_duration_avg_ms")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = fn.stats
        if stats is None or stats.cold_start_rate is None or stats.init_duration_avg_ms is None:
            return None
        rate, init = stats.cold_start_rate, stats.init_duration_avg_ms
        tail_statistic = (signal.statistic or "").lower().startswith(("p", "tm", "max"))
        if rate < COLD_START_RATE_MIN or init < COLD_START_INIT_MIN_MS:
            return None
        if not (tail_statistic or rate >= COLD_START_RATE_FOR_AVERAGES):
            return None
        return self.cause(
            f"Cold starts: {percent(rate)} of invocations start cold and spend {init:,.0f} ms "
            "in init, which lands in the high percentiles.",
            Confidence.MEDIUM,
            Evidence(label="cold start rate", value=round(rate, 4), source="logs"),
            Evidence(label="average init", value=init, unit="ms", source="logs"),
        )


class LongTail(Diagnosis):
    """A long tail of slow invocations, typical of a slow downstream call.

    What it checks:
    The p99 duration against the median: three times or more is a long tail.

    Why it matters:
    When the median is fast and the tail is slow, the time goes to waiting (a database, an API,
    a lock), which more memory does not buy back.

    What to do:
    Find the slow dependency in the function's traces; set client timeouts and retries with
    backoff; cache what can be cached.
    """

    diagnosis_id = "DX-004"
    name = "Long tail"
    kind = CauseKind.LONG_TAIL
    addressed_by = (Category.TRACING, Category.ERRORS)
    metrics = ("Duration",)
    needs = ("stats.duration_p50_ms", "stats.duration_p99_ms")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = fn.stats
        if stats is None or not stats.duration_p50_ms or stats.duration_p99_ms is None:
            return None
        ratio = stats.duration_p99_ms / stats.duration_p50_ms
        if ratio < LONG_TAIL_RATIO:
            return None
        return self.cause(
            f"A long tail: p99 is {ratio:.1f}× the median ({stats.duration_p99_ms:,.0f} ms vs "
            f"{stats.duration_p50_ms:,.0f} ms), typical of waiting on a slow downstream call.",
            Confidence.LOW,
            Evidence(
                label="p50 duration", value=stats.duration_p50_ms, unit="ms", source="metrics"
            ),
            Evidence(
                label="p99 duration", value=stats.duration_p99_ms, unit="ms", source="metrics"
            ),
        )

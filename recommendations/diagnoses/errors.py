"""Why an Errors alarm fires: timeouts, out-of-memory kills, or the code itself."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.diagnoses.base import AlarmSignal, CauseKind, Diagnosis, LikelyCause, percent
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import FunctionSnapshot, FunctionStats


def _read_reports(fn: FunctionSnapshot) -> FunctionStats | None:
    """The stats when REPORT lines were read; without them no error cause can be told."""
    if fn.stats is None or fn.stats.log_sample_invocations is None:
        return None
    return fn.stats


class Timeouts(Diagnosis):
    """The errors are invocations killed at the timeout.

    What it checks:
    Timeouts counted in the REPORT lines read, with their share of the errors CloudWatch counted.

    Why it matters:
    A timed-out invocation is an error that is billed for the whole timeout and may be retried,
    doubling the work.

    What to do:
    Find what the slow invocations wait for; give a CPU-bound function more memory; set a
    timeout that fits the work and the callers' limits.
    """

    diagnosis_id = "DX-005"
    name = "Timeouts"
    kind = CauseKind.TIMEOUTS
    addressed_by = (Category.TIMEOUT, Category.MEMORY)
    metrics = ("Errors",)
    needs = ("stats.timeouts", "stats.errors", "stats.log_sample_invocations")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = _read_reports(fn)
        if stats is None or not stats.timeouts:
            return None
        errors = stats.errors
        share = f" ({percent(min(1.0, stats.timeouts / errors))} of errors)" if errors else ""
        return self.cause(
            f"Errors are timeouts: {stats.timeouts:,} invocations ran past the "
            f"{fn.timeout_s} s timeout{share}.",
            Confidence.HIGH,
            Evidence(label="timeouts", value=stats.timeouts, source="logs"),
            Evidence(label="timeout", value=fn.timeout_s, unit="s", source="config"),
        )


class OutOfMemory(Diagnosis):
    """The errors are out-of-memory kills.

    What it checks:
    Out-of-memory kills counted in the REPORT lines read (Max Memory Used reached the memory
    size and the runtime exited).

    Why it matters:
    The invocation fails and is billed; the next one in the same environment starts cold.

    What to do:
    Apply the memory increase tunebot recommends (it keeps headroom above the peak), or fix what
    holds the memory.
    """

    diagnosis_id = "DX-006"
    name = "Out of memory"
    kind = CauseKind.OUT_OF_MEMORY
    addressed_by = (Category.MEMORY,)
    metrics = ("Errors",)
    needs = ("stats.out_of_memory", "memory_mb", "stats.log_sample_invocations")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = _read_reports(fn)
        if stats is None or not stats.out_of_memory:
            return None
        return self.cause(
            f"Errors are out-of-memory kills: {stats.out_of_memory:,} invocations used all "
            f"{fn.memory_mb} MB.",
            Confidence.HIGH,
            Evidence(label="out of memory", value=stats.out_of_memory, source="logs"),
            Evidence(label="memory", value=fn.memory_mb, unit="MB", source="config"),
        )


class CodeErrors(Diagnosis):
    """The errors come from the function's code or what it calls.

    What it checks:
    REPORT lines were read and show neither timeouts nor out-of-memory kills.

    Why it matters:
    No configuration change fixes an exception in the code; the function's logs name it.

    What to do:
    Read the errors in the function's logs (or traces); retry throttled downstream calls with
    exponential backoff and jitter.
    """

    diagnosis_id = "DX-007"
    name = "Errors from the code"
    kind = CauseKind.CODE_ERRORS
    addressed_by = (Category.ERRORS, Category.TRACING)
    metrics = ("Errors",)
    needs = ("stats.timeouts", "stats.out_of_memory", "stats.log_sample_invocations")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = _read_reports(fn)
        if stats is None or stats.timeouts or stats.out_of_memory:
            return None
        return self.cause(
            "The errors are not timeouts or out-of-memory kills: they come from the function's "
            "code or what it calls; its logs say which.",
            Confidence.MEDIUM,
            Evidence(label="REPORT lines read", value=stats.log_sample_invocations, source="logs"),
        )

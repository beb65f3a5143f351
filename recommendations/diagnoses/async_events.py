"""Why async events wait or are dropped (AsyncEventAge, AsyncEventsDropped alarms)."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.diagnoses.base import AlarmSignal, CauseKind, Diagnosis, LikelyCause
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import FunctionSnapshot

ASYNC_METRICS = ("AsyncEventAge", "AsyncEventsDropped")


class AsyncEventsDropped(Diagnosis):
    """Failed async events are dropped: no on-failure destination or dead-letter queue.

    What it checks:
    An AsyncEventsDropped alarm on a function with neither an on-failure destination nor a
    dead-letter queue.

    Why it matters:
    After its retries Lambda discards the event, and with it the only record of the work.

    What to do:
    Add an on-failure destination (tunebot can create an encrypted SQS queue for it).
    """

    diagnosis_id = "DX-014"
    name = "Async events dropped"
    kind = CauseKind.ASYNC_DROPS
    addressed_by = (Category.ASYNC,)
    metrics = ASYNC_METRICS
    needs = ("async_config", "dead_letter_target_arn")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        if signal.primary_metric != "AsyncEventsDropped" or fn.has_async_failure_handling:
            return None
        retries = fn.effective_async_config.maximum_retry_attempts
        return self.cause(
            f"Failed async events are dropped after {retries} retries: the function has no "
            "on-failure destination or dead-letter queue.",
            Confidence.HIGH,
            Evidence(label="retry attempts", value=retries, source="config"),
        )


class AsyncBacklog(Diagnosis):
    """Async events wait because invocations are throttled or failing and retried.

    What it checks:
    Throttles or errors over the window on a function whose async events age or drop.

    Why it matters:
    Lambda retries throttled and failed async events with backoff, so the queue of waiting
    events grows and the oldest may expire.

    What to do:
    Fix the errors, or give the function the concurrency its traffic needs.
    """

    diagnosis_id = "DX-015"
    name = "Async backlog"
    kind = CauseKind.ASYNC_BACKLOG
    addressed_by = (Category.ERRORS, Category.CONCURRENCY)
    metrics = ASYNC_METRICS
    needs = ("stats.throttles", "stats.errors")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = fn.stats
        if stats is None or not (stats.throttles or stats.errors):
            return None
        return self.cause(
            "Async events wait because invocations are throttled or failing and retried "
            f"({stats.throttles or 0:,} throttles, {stats.errors or 0:,} errors).",
            Confidence.MEDIUM,
            Evidence(label="throttles", value=stats.throttles or 0, source="metrics"),
            Evidence(label="errors", value=stats.errors or 0, source="metrics"),
        )

"""Asynchronous invocations: failures that vanish, and events that age or are dropped."""

from __future__ import annotations

from pydantic import ValidationError

from recommendations.changes import AsyncFailureDestinationChange, AsyncSettings
from recommendations.recommendation import Category, Confidence, Risk, Severity, TradeOff
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, evidence
from recommendations.snapshot import FunctionSnapshot

# SQS queue names: at most 80 characters.
MAX_QUEUE_NAME = 80
FAILURE_QUEUE_PREFIX = "tunebot-"
FAILURE_QUEUE_SUFFIX = "-failures"

# ASYNC-002: events older than this when processed are ageing (the queue is falling behind).
AGEING_EVENT_AGE_MS = 5 * 60 * 1000.0


def failure_queue_name(function_name: str) -> str:
    room = MAX_QUEUE_NAME - len(FAILURE_QUEUE_PREFIX) - len(FAILURE_QUEUE_SUFFIX)
    return FAILURE_QUEUE_PREFIX + function_name[:room] + FAILURE_QUEUE_SUFFIX


class AsyncWithoutFailureDestination(Rule):
    """An asynchronously invoked function with neither an on-failure destination nor a DLQ.

    What it checks:
    Functions invoked asynchronously (S3, SNS, EventBridge, schedules, or async events seen in
    the metrics) that have no on-failure destination in their event invoke config and no
    dead-letter queue. It proposes a new encrypted SQS queue, `tunebot-<function>-failures`,
    as the on-failure destination.

    Why it matters:
    Lambda retries a failed async event twice, then discards it. Without a destination or
    dead-letter queue nothing records the event, so the work is silently lost.

    What to do:
    Apply the change: tunebot creates the queue and sets it as the on-failure destination,
    keeping the retry and event-age settings. Undo detaches it and keeps the queue and its
    messages. Alarm on the queue's depth.
    """

    rule_id = "ASYNC-001"
    name = "Async failures are dropped"
    category = Category.ASYNC
    needs = (
        "invoked_by",
        "stats.async_events_received",
        "async_config",
        "dead_letter_target_arn",
        "stats.errors",
    )
    proposes = AsyncFailureDestinationChange
    iam_actions = AsyncFailureDestinationChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        is_async = fn.is_async_invoked
        if is_async is None:
            return self.unknown("whether the function is invoked asynchronously is unknown")
        if not is_async:
            return self.not_applicable("not invoked asynchronously")
        if fn.has_async_failure_handling:
            return self.passed("failed events go to a destination or dead-letter queue")
        config = fn.effective_async_config
        queue = failure_queue_name(fn.name)
        queue_arn = f"arn:aws:sqs:{fn.region}:{fn.account_id}:{queue}"
        try:
            before = AsyncSettings(
                on_failure_destination=None,
                maximum_retry_attempts=config.maximum_retry_attempts,
                maximum_event_age_s=config.maximum_event_age_s,
            )
        except ValidationError:
            return self.unknown("the event invoke config holds values outside Lambda's ranges")
        after = before.model_copy(update={"on_failure_destination": queue_arn})
        stats = fn.stats
        facts = [
            evidence("On-failure destination", "none", "", "event invoke config"),
            evidence("Dead-letter queue", "none", "", "configuration"),
            evidence("Retry attempts", config.maximum_retry_attempts, "", "event invoke config"),
        ]
        if stats is not None and stats.async_events_received is not None:
            facts.append(evidence("Async events", stats.async_events_received, "", "metrics"))
        failing = stats is not None and bool(stats.errors)
        if failing and stats is not None:
            facts.append(evidence("Errors", stats.errors or 0, "", "metrics"))
        from_metrics = stats is not None and bool(stats.async_events_received)
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.HIGH if failing else Severity.MEDIUM,
                title="Keep failed async events in an SQS queue",
                rationale=(
                    f"{fn.name} is invoked asynchronously and has no on-failure destination or "
                    f"dead-letter queue: an event that fails {config.maximum_retry_attempts + 1} "
                    "times is discarded without a trace."
                    + (
                        " It has errors in this window, so events were probably lost."
                        if failing
                        else ""
                    )
                ),
                confidence=Confidence.HIGH if from_metrics else Confidence.MEDIUM,
                evidence=facts,
                change=AsyncFailureDestinationChange(
                    function_name=fn.name, before=before, after=after, create_queue_name=queue
                ),
                trade_off=TradeOff.SAFETY,
                risk=Risk.LOW,
                notes=("The queue costs $0.40 per million messages beyond the SQS free tier.",),
            )
        )


class AsyncEventsDroppedOrAgeing(Rule):
    """Async events dropped, or waiting minutes before they are processed.

    What it checks:
    The `AsyncEventsDropped` and `AsyncEventAge` metrics: any dropped event, or events older
    than 5 minutes when processed.

    Why it matters:
    Lambda's internal async queue drops events that exceed the maximum event age or run out of
    retries, and events age when the function is throttled or failing. There is no backlog to
    see, inspect or replay.

    What to do:
    Put an SQS queue in front of the function (the producer sends to the queue; the function
    reads it through an event source mapping). The queue keeps the backlog visible and durable,
    batches the work, caps concurrency with the mapping's maximum concurrency, and sends
    failures to a dead-letter queue. Meanwhile check throttling (CONC-001) and errors.
    """

    rule_id = "ASYNC-002"
    name = "Async events dropped or ageing"
    category = Category.ASYNC
    needs = (
        "stats.async_events_dropped",
        "stats.async_event_age_max_ms",
        "stats.throttles",
        "async_config.maximum_event_age_s",
    )

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.is_async_invoked is False:
            return self.not_applicable("not invoked asynchronously")
        stats = fn.stats
        dropped = stats.async_events_dropped if stats else None
        age = stats.async_event_age_max_ms if stats else None
        if dropped is None and age is None:
            return self.unknown("async event metrics (dropped, age) are unknown")
        ageing = age is not None and age >= AGEING_EVENT_AGE_MS
        if not dropped and not ageing:
            return self.passed("no async events dropped and none waited 5 minutes")
        assert stats is not None  # a metric is known
        facts = []
        if dropped:
            facts.append(evidence("Async events dropped", dropped, "", "metrics"))
        if age is not None:
            facts.append(evidence("Async event age (max)", round(age / 1000.0, 1), "s", "metrics"))
        facts.append(
            evidence(
                "Maximum event age",
                fn.effective_async_config.maximum_event_age_s,
                "s",
                "event invoke config",
            )
        )
        if stats.throttles:
            facts.append(evidence("Throttles", stats.throttles, "", "metrics"))
        if dropped:
            problem = f"Lambda dropped {dropped:,} async events for {fn.name}"
        else:
            problem = f"async events for {fn.name} waited up to {(age or 0.0) / 1000.0:,.0f} s"
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.HIGH if dropped else Severity.MEDIUM,
                title="Put an SQS queue in front: async events are "
                + ("dropped" if dropped else "ageing"),
                rationale=problem
                + ". An SQS queue in front of the function keeps the backlog durable and "
                "visible, batches the work and caps concurrency; failures go to its "
                "dead-letter queue.",
                confidence=Confidence.HIGH,
                evidence=facts,
                risk=Risk.MEDIUM,
            )
        )

"""Event source mappings (SQS, Kinesis, DynamoDB streams): batch sizes, failures, retries."""

from __future__ import annotations

import re

from pydantic import ValidationError

from recommendations.changes import EventSourceMappingChange, EventSourceMappingSettings
from recommendations.pricing import SECONDS_PER_MONTH
from recommendations.recommendation import (
    Category,
    Confidence,
    Recommendation,
    Risk,
    Severity,
    TradeOff,
)
from recommendations.rules.async_invoke import (
    FAILURE_QUEUE_PREFIX,
    FAILURE_QUEUE_SUFFIX,
    MAX_QUEUE_NAME,
)
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, cost, evidence
from recommendations.snapshot import EventSourceKind, EventSourceMapping, FunctionSnapshot

BATCHING_KINDS = (EventSourceKind.SQS, EventSourceKind.KINESIS, EventSourceKind.DYNAMODB)

# BAT-001: a mapping with this many invocations a month or more is high volume...
HIGH_VOLUME_INVOCATIONS_PER_MONTH = 1_000_000
# ...and batches of this size or less, with no batching window, are small.
SMALL_BATCH_SIZE = 10
# What to propose: SQS standard queues take up to 10,000 per batch and need a window above 10;
# FIFO queues take at most 10 and no window; streams default to 100.
SQS_TARGET_BATCH_SIZE = 100
SQS_TARGET_WINDOW_S = 5
FIFO_MAX_BATCH_SIZE = 10
STREAM_TARGET_BATCH_SIZE = 100
STREAM_TARGET_WINDOW_S = 1
# BAT-003: retries to propose for a stream that retries forever. Ten let bisection halve a
# batch of up to 1,024 records down to the bad one, and ride out a short outage downstream.
STREAM_RETRY_LIMIT = 10


def source_name(mapping: EventSourceMapping) -> str:
    """The queue or table/stream name from the source ARN, for people."""
    # arn:partition:service:region:account:resource; the resource may itself hold colons.
    tail = mapping.source_arn.split(":", 5)[-1]
    parts = tail.split("/")
    if len(parts) >= 2 and parts[0] in ("table", "stream"):
        return parts[1]
    return tail


def current_settings(mapping: EventSourceMapping) -> EventSourceMappingSettings | None:
    """The mapping's changeable settings; None when the snapshot holds values outside the
    ranges Lambda accepts (then no change can be expressed against them)."""
    try:
        return EventSourceMappingSettings(
            batch_size=mapping.batch_size,
            maximum_batching_window_s=mapping.maximum_batching_window_s,
            report_batch_item_failures=mapping.reports_batch_item_failures,
            maximum_retry_attempts=mapping.maximum_retry_attempts,
            bisect_batch_on_function_error=mapping.bisect_batch_on_function_error,
            on_failure_destination=mapping.on_failure_destination,
            maximum_record_age_s=mapping.maximum_record_age_s,
        )
    except ValidationError:
        return None


def _batching_mappings(fn: FunctionSnapshot) -> list[EventSourceMapping]:
    return [
        mapping
        for mapping in fn.event_source_mappings
        if mapping.kind in BATCHING_KINDS and mapping.state.lower() != "disabled"
    ]


def _results(
    rule: Rule, recommendations: list[Recommendation], unknown: list[str], passed: str
) -> RuleResult:
    if recommendations:
        return rule.recommend(*recommendations)
    if unknown:
        return rule.unknown("; ".join(unknown))
    return rule.passed(passed)


class SmallBatchesAtHighVolume(Rule):
    """High-volume queues and streams read in small batches with no batching window.

    What it checks:
    SQS, Kinesis and DynamoDB stream mappings with 1,000,000 invocations a month or more, a
    batch size of 10 or less and no batching window. It proposes a batch of 100 with a 5 s
    window for SQS standard queues (the window is required above 10), 10 for FIFO queues
    (their maximum; FIFO takes no window), and 100 with a 1 s window for streams.

    Why it matters:
    Every invocation pays a request charge and its own start-up work. Fuller batches mean fewer
    invocations for the same messages. The saving shown counts only the request charges (the
    sure part); the upper figure also assumes each invocation's duration is mostly fixed
    overhead, which only a benchmark confirms. Messages wait up to the window before
    processing.

    What to do:
    Apply the new batch settings where a few seconds of extra latency is fine, and make sure
    the handler reports partial batch failures (BAT-002) so one bad message does not send a
    whole batch back.
    """

    rule_id = "BAT-001"
    name = "Small batches at high volume"
    category = Category.BATCHING
    needs = (
        "event_source_mappings[].batch_size",
        "event_source_mappings[].maximum_batching_window_s",
        "event_source_mappings[].queue_is_fifo",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
    )
    proposes = EventSourceMappingChange
    iam_actions = EventSourceMappingChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        mappings = _batching_mappings(fn)
        if not mappings:
            return self.not_applicable("no SQS, Kinesis or DynamoDB trigger")
        stats = fn.stats
        per_month = stats.invocations_per_month if stats else None
        if per_month is None:
            return self.unknown("the number of invocations is unknown")
        # Invocations are counted per function; share them evenly between its triggers.
        per_mapping = per_month / len(mappings)
        found: list[Recommendation] = []
        unknown: list[str] = []
        for mapping in mappings:
            name = source_name(mapping)
            if mapping.batch_size is None:
                unknown.append(f"the batch size of the {name} trigger is unknown")
                continue
            if per_mapping < HIGH_VOLUME_INVOCATIONS_PER_MONTH:
                continue
            if mapping.batch_size > SMALL_BATCH_SIZE or mapping.maximum_batching_window_s:
                continue
            settings = current_settings(mapping)
            if settings is None:
                unknown.append(f"the {name} trigger's settings are outside Lambda's ranges")
                continue
            if mapping.kind is EventSourceKind.SQS and mapping.queue_is_fifo:
                if mapping.batch_size >= FIFO_MAX_BATCH_SIZE:
                    continue
                after = settings.model_copy(update={"batch_size": FIFO_MAX_BATCH_SIZE})
            elif mapping.kind is EventSourceKind.SQS:
                if mapping.queue_is_fifo is None:
                    unknown.append(f"whether {name} is a FIFO queue is unknown")
                    continue
                after = settings.model_copy(
                    update={
                        "batch_size": SQS_TARGET_BATCH_SIZE,
                        "maximum_batching_window_s": SQS_TARGET_WINDOW_S,
                    }
                )
            else:
                after = settings.model_copy(
                    update={
                        "batch_size": STREAM_TARGET_BATCH_SIZE,
                        "maximum_batching_window_s": STREAM_TARGET_WINDOW_S,
                    }
                )
            found.append(self._recommendation(fn, context, mapping, settings, after, per_mapping))
        return _results(self, found, unknown, "batches are large enough for the traffic")

    def _recommendation(
        self,
        fn: FunctionSnapshot,
        context: RuleContext,
        mapping: EventSourceMapping,
        before: EventSourceMappingSettings,
        after: EventSourceMappingSettings,
        invocations: float,
    ) -> Recommendation:
        old_batch = mapping.batch_size or 1
        new_batch = after.batch_size or old_batch
        window = after.maximum_batching_window_s or 0
        # At high volume batches fill up; assume today's are full. With a window, a batch
        # holds what arrives during it, up to the new size.
        messages_per_s = invocations * old_batch / SECONDS_PER_MONTH
        filled = min(float(new_batch), max(float(old_batch), messages_per_s * max(window, 1)))
        remaining_share = old_batch / filled
        name = source_name(mapping)
        monthly = cost(fn, context.now)
        share = invocations / monthly.invocations_per_month if monthly else 0.0
        low = high = None
        if monthly is not None:
            low = monthly.requests_usd * share * (1 - remaining_share)
            high = (monthly.requests_usd + monthly.compute_usd) * share * (1 - remaining_share)
        change = EventSourceMappingChange(
            function_name=fn.name,
            mapping_uuid=mapping.uuid,
            source_arn=mapping.source_arn,
            before=before,
            after=after,
        )
        notes = []
        if not mapping.reports_batch_item_failures:
            notes.append(
                "Larger batches make partial failures costlier: report batch item failures "
                "(BAT-002)."
            )
        return build(
            self,
            fn,
            severity=Severity.LOW,
            title=f"Batch the {name} trigger: {old_batch} → {new_batch} per invocation",
            rationale=(
                f"{fn.name} is invoked about {invocations:,.0f} times a month by {name} with "
                f"batches of {old_batch} and no batching window. Batches of up to {new_batch}"
                + (f" with a {window} s window" if window else "")
                + f" cut invocations by about {100 * (1 - remaining_share):.0f}%"
                + (f"; messages may wait up to {window} s longer." if window else ".")
            ),
            confidence=Confidence.MEDIUM,
            evidence=(
                evidence("Batch size", old_batch, "", "event source mapping"),
                evidence("Batching window", mapping.maximum_batching_window_s or 0, "s"),
                evidence("Invocations from this trigger", round(invocations), "/month", "metrics"),
                evidence("Messages", round(messages_per_s, 1), "/s", "derived"),
            ),
            change=change,
            cost_before=monthly.total_usd if monthly else None,
            cost_after=monthly.total_usd - low if monthly and low is not None else None,
            savings=low,
            savings_low=low,
            savings_high=high,
            risk=Risk.MEDIUM,
            notes=notes,
        )


class NoPartialBatchResponse(Rule):
    """Batches of more than one record without partial batch responses.

    What it checks:
    SQS, Kinesis and DynamoDB stream mappings with a batch size above 1 that do not have
    `ReportBatchItemFailures` in their function response types.

    Why it matters:
    Without partial batch responses, one failing record fails the whole batch: every record in
    it is processed again (paid again, and repeated side effects unless the handler is
    idempotent), and on streams the shard stops until the batch succeeds.

    What to do:
    Change the handler to return `batchItemFailures` with the ids of the records that failed,
    then enable `ReportBatchItemFailures` on the trigger. Enabling it before the handler
    returns that list changes nothing, so tunebot gives this as advice, not a one-click change.
    """

    rule_id = "BAT-002"
    name = "No partial batch responses"
    category = Category.BATCHING
    needs = (
        "event_source_mappings[].batch_size",
        "event_source_mappings[].function_response_types",
        "stats.error_rate",
    )

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        mappings = _batching_mappings(fn)
        if not mappings:
            return self.not_applicable("no SQS, Kinesis or DynamoDB trigger")
        found: list[Recommendation] = []
        unknown: list[str] = []
        error_rate = fn.stats.error_rate if fn.stats else None
        for mapping in mappings:
            name = source_name(mapping)
            if mapping.batch_size is None:
                unknown.append(f"the batch size of the {name} trigger is unknown")
                continue
            if mapping.batch_size <= 1 or mapping.reports_batch_item_failures:
                continue
            facts = [
                evidence("Batch size", mapping.batch_size, "", "event source mapping"),
                evidence("Function response types", "none", "", "event source mapping"),
            ]
            if error_rate is not None:
                facts.append(evidence("Error rate", round(error_rate * 100, 2), "%", "metrics"))
            found.append(
                build(
                    self,
                    fn,
                    severity=Severity.MEDIUM if error_rate else Severity.LOW,
                    title=f"Report partial batch failures from {name}",
                    rationale=(
                        f"{fn.name} reads {name} in batches of {mapping.batch_size}; one failing "
                        f"record sends all {mapping.batch_size} back for another attempt. Return "
                        "batchItemFailures from the handler, then enable ReportBatchItemFailures."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=facts,
                    risk=Risk.LOW,
                )
            )
        return _results(self, found, unknown, "every batching trigger reports partial failures")


class StreamRetriesForever(Rule):
    """A stream trigger that retries a failing batch until its records expire.

    What it checks:
    Kinesis and DynamoDB stream mappings with unlimited retries and unlimited record age,
    whatever their bisect and destination settings: neither bisection nor a destination alone
    ends the retries. It proposes a limit of 10 retries, batch bisection, and an on-failure
    destination: the mapping's own if it has one, else a new encrypted SQS queue
    `tunebot-<function>-<source>-failures` (kept 14 days).

    Why it matters:
    A record the handler cannot process (a "poison pill") is retried until it expires from the
    stream (24 hours up to a year), and its shard makes no progress meanwhile: the iterator age
    grows and every later record waits. Bisection isolates the bad record but, with unlimited
    retries, then retries it alone until it expires. Only a retry limit gets the shard moving
    again, and only an on-failure destination keeps a record of what was skipped.

    What to do:
    Apply the change. Ten retries let bisection narrow a batch of up to 1,024 records to the
    bad one while a short outage downstream is ridden out; after that the batch's details go to
    the queue and the shard moves on. Lambda sends them with the function's execution role,
    which needs `sqs:SendMessage` on the queue (tunebot grants it only when allowed to change
    IAM; otherwise the result says what to add). Alarm on the queue's depth. Undo restores the
    previous settings and keeps the queue.
    """

    rule_id = "BAT-003"
    name = "Stream retries forever"
    category = Category.BATCHING
    needs = (
        "event_source_mappings[].maximum_retry_attempts",
        "event_source_mappings[].maximum_record_age_s",
        "event_source_mappings[].bisect_batch_on_function_error",
        "event_source_mappings[].on_failure_destination",
        "stats.iterator_age_max_ms",
    )
    proposes = EventSourceMappingChange
    iam_actions = EventSourceMappingChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        streams = _stream_mappings(fn)
        if not streams:
            return self.not_applicable("no Kinesis or DynamoDB stream trigger")
        found: list[Recommendation] = []
        unknown: list[str] = []
        iterator_age = fn.stats.iterator_age_max_ms if fn.stats else None
        for mapping in streams:
            name = source_name(mapping)
            if mapping.bisect_batch_on_function_error is None:
                # AWS always returns it for streams: without it the failure settings were not
                # read, and the change could not say what it changes.
                unknown.append(f"the bisect setting of the {name} trigger is unknown")
                continue
            if not mapping.retries_forever:
                continue
            before = current_settings(mapping)
            if before is None:
                unknown.append(f"the {name} trigger's settings are outside Lambda's ranges")
                continue
            change = _failure_change(
                fn,
                mapping,
                before,
                maximum_retry_attempts=STREAM_RETRY_LIMIT,
                bisect_batch_on_function_error=True,
            )
            facts = [
                evidence("Maximum retry attempts", "unlimited", "", "event source mapping"),
                evidence("Maximum record age", "unlimited", "", "event source mapping"),
                evidence(
                    "Bisect batch on error",
                    "on" if mapping.bisect_batch_on_function_error else "off",
                    "",
                    "event source mapping",
                ),
                evidence(
                    "On-failure destination",
                    mapping.on_failure_destination or "none",
                    "",
                    "event source mapping",
                ),
            ]
            if iterator_age is not None:
                facts.append(
                    evidence("Iterator age (max)", round(iterator_age / 1000.0, 1), "s", "metrics")
                )
            kept_in = _destination_words(change)
            found.append(
                build(
                    self,
                    fn,
                    severity=Severity.HIGH,
                    title=f"Stop the {name} stream retrying forever: {STREAM_RETRY_LIMIT} "
                    "retries, bisect, keep failed records",
                    rationale=(
                        f"{fn.name} retries a failing {name} batch until its records expire, so "
                        "one bad record stops its shard"
                        + (
                            " (bisection alone only isolates it, then retries it alone)"
                            if mapping.bisect_batch_on_function_error
                            else ""
                        )
                        + f". With bisection and a limit of {STREAM_RETRY_LIMIT} retries the bad "
                        f"record is isolated and skipped, and its details are kept in {kept_in}."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=facts,
                    change=change,
                    trade_off=TradeOff.SAFETY,
                    risk=Risk.LOW,
                    notes=_failure_notes(change),
                )
            )
        return _results(self, found, unknown, "every stream trigger's retries are bounded")


class StreamFailuresDiscarded(Rule):
    """A stream trigger that gives up on failing records without keeping them anywhere.

    What it checks:
    Kinesis and DynamoDB stream mappings whose retries or record age are bounded but that have
    no on-failure destination. It proposes a new encrypted SQS queue,
    `tunebot-<function>-<source>-failures` (kept 14 days), as the on-failure destination.

    Why it matters:
    When a batch runs out of retries or grows too old, Lambda skips its records and moves on.
    Without a destination nothing records which records were skipped, so the data is lost
    without a trace (the same gap as async invocations without a destination, ASYNC-001, and
    SQS queues without a dead-letter queue, BAT-004).

    What to do:
    Apply the change: tunebot creates the queue and sets it as the trigger's on-failure
    destination; the retry settings stay. Each message names the shard and sequence numbers of
    the skipped records, which can be read again while the stream still holds them. Lambda
    sends them with the function's execution role, which needs `sqs:SendMessage` on the queue
    (tunebot grants it only when allowed to change IAM). Alarm on the queue's depth. Undo
    detaches the queue and keeps it.
    """

    rule_id = "BAT-005"
    name = "Stream failures discarded"
    category = Category.BATCHING
    needs = (
        "event_source_mappings[].maximum_retry_attempts",
        "event_source_mappings[].maximum_record_age_s",
        "event_source_mappings[].bisect_batch_on_function_error",
        "event_source_mappings[].on_failure_destination",
        "stats.errors",
    )
    proposes = EventSourceMappingChange
    iam_actions = EventSourceMappingChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        streams = _stream_mappings(fn)
        if not streams:
            return self.not_applicable("no Kinesis or DynamoDB stream trigger")
        found: list[Recommendation] = []
        unknown: list[str] = []
        errors = fn.stats.errors if fn.stats else None
        for mapping in streams:
            name = source_name(mapping)
            if mapping.bisect_batch_on_function_error is None:
                unknown.append(f"the failure settings of the {name} trigger were not read")
                continue
            # Unlimited retries are BAT-003's: its change adds the destination too.
            if mapping.retries_forever or mapping.on_failure_destination:
                continue
            before = current_settings(mapping)
            if before is None:
                unknown.append(f"the {name} trigger's settings are outside Lambda's ranges")
                continue
            change = _failure_change(fn, mapping, before)
            limits = []
            if mapping.maximum_retry_attempts is not None and mapping.maximum_retry_attempts >= 0:
                limits.append(f"{mapping.maximum_retry_attempts} retries")
            if mapping.maximum_record_age_s is not None and mapping.maximum_record_age_s >= 0:
                limits.append(f"a record age of {mapping.maximum_record_age_s:,} s")
            facts = [
                evidence("On-failure destination", "none", "", "event source mapping"),
                evidence(
                    "Maximum retry attempts",
                    _limit(mapping.maximum_retry_attempts),
                    "",
                    "event source mapping",
                ),
                evidence(
                    "Maximum record age",
                    _limit(mapping.maximum_record_age_s),
                    "s" if _limit(mapping.maximum_record_age_s) != "unlimited" else "",
                    "event source mapping",
                ),
            ]
            if errors is not None:
                facts.append(evidence("Errors", errors, "", "metrics"))
            found.append(
                build(
                    self,
                    fn,
                    severity=Severity.HIGH if errors else Severity.MEDIUM,
                    title=f"Keep records the {name} stream gives up on in an SQS queue",
                    rationale=(
                        f"{fn.name} gives up on a failing {name} batch after "
                        + " or ".join(limits)
                        + " and has no on-failure destination: its records are skipped without "
                        "a trace."
                        + (
                            " It has errors in this window, so records were probably skipped."
                            if errors
                            else ""
                        )
                        + f" Send the failed batches' details to {_destination_words(change)}."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=facts,
                    change=change,
                    trade_off=TradeOff.SAFETY,
                    risk=Risk.LOW,
                    notes=_failure_notes(change),
                )
            )
        return _results(self, found, unknown, "every stream trigger keeps its failed records")


def _stream_mappings(fn: FunctionSnapshot) -> list[EventSourceMapping]:
    return [m for m in _batching_mappings(fn) if m.kind.is_stream]


def _limit(value: int | None) -> str | int:
    return "unlimited" if value is None or value < 0 else value


def stream_failure_queue_name(function_name: str, mapping: EventSourceMapping) -> str:
    """``tunebot-<function>-<source>-failures``, at most 80 characters of what SQS allows.

    Two triggers whose names only differ past the limit share a queue; each message names its
    source, so nothing is mixed up.
    """
    middle = re.sub(r"[^A-Za-z0-9_-]", "-", f"{function_name}-{source_name(mapping)}")
    room = MAX_QUEUE_NAME - len(FAILURE_QUEUE_PREFIX) - len(FAILURE_QUEUE_SUFFIX)
    return FAILURE_QUEUE_PREFIX + middle[:room] + FAILURE_QUEUE_SUFFIX


def _failure_change(
    fn: FunctionSnapshot,
    mapping: EventSourceMapping,
    before: EventSourceMappingSettings,
    **updates: object,
) -> EventSourceMappingChange:
    """The change to ``updates`` plus an on-failure destination (a new queue when none)."""
    queue = None
    if not before.on_failure_destination:
        queue = stream_failure_queue_name(fn.name, mapping)
        updates["on_failure_destination"] = f"arn:aws:sqs:{fn.region}:{fn.account_id}:{queue}"
    return EventSourceMappingChange(
        function_name=fn.name,
        mapping_uuid=mapping.uuid,
        source_arn=mapping.source_arn,
        before=before,
        after=before.model_copy(update=updates),
        create_queue_name=queue,
    )


def _destination_words(change: EventSourceMappingChange) -> str:
    if change.create_queue_name:
        return f"a new encrypted SQS queue, {change.create_queue_name}"
    return f"its on-failure destination {change.after.on_failure_destination}"


def _failure_notes(change: EventSourceMappingChange) -> tuple[str, ...]:
    if not change.create_queue_name:
        return ()
    return (
        "Lambda sends failure records with the function's execution role: it needs "
        "sqs:SendMessage on the new queue (tunebot adds it only when allowed to change IAM).",
        "The queue costs $0.40 per million messages beyond the SQS free tier.",
    )


class QueueWithoutRedrive(Rule):
    """An SQS queue feeding the function with no dead-letter queue (redrive policy).

    What it checks:
    SQS triggers whose queue has no redrive policy. It needs the queue's attributes (read
    with its visibility timeout); without them the result is unknown.

    Why it matters:
    A message the function can never process returns to the queue after each visibility
    timeout and is retried until the queue's retention period ends (4 days by default):
    an invocation each time, then silent loss. A dead-letter queue keeps it after a few
    attempts, where it can be inspected and redriven.

    What to do:
    Create a dead-letter queue and set a redrive policy on the source queue (for example
    maxReceiveCount 5), then alarm on the dead-letter queue's depth.
    """

    rule_id = "BAT-004"
    name = "SQS queue without redrive policy"
    category = Category.BATCHING
    needs = (
        "event_source_mappings[].queue_redrive_policy",
        "event_source_mappings[].queue_visibility_timeout_s",
    )

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        queues = [m for m in _batching_mappings(fn) if m.kind is EventSourceKind.SQS]
        if not queues:
            return self.not_applicable("no SQS trigger")
        found: list[Recommendation] = []
        unknown: list[str] = []
        for mapping in queues:
            name = source_name(mapping)
            if mapping.queue_visibility_timeout_s is None:
                unknown.append(f"the attributes of queue {name} were not read")
                continue
            if mapping.queue_redrive_policy is not None:
                continue
            found.append(
                build(
                    self,
                    fn,
                    severity=Severity.MEDIUM,
                    title=f"Give queue {name} a dead-letter queue",
                    rationale=(
                        f"Queue {name} has no redrive policy: a message {fn.name} cannot process "
                        "is retried after every visibility timeout until retention ends, then "
                        "lost. Add a dead-letter queue with maxReceiveCount around 5."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=(
                        evidence("Redrive policy", "none", "", "SQS"),
                        evidence(
                            "Visibility timeout", mapping.queue_visibility_timeout_s, "s", "SQS"
                        ),
                    ),
                    risk=Risk.LOW,
                )
            )
        return _results(self, found, unknown, "every SQS trigger's queue has a dead-letter queue")

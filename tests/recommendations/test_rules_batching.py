"""BAT-001..005: batch sizes, partial batch responses, stream retries, SQS redrive, stream
failures kept."""

from __future__ import annotations

from typing import Any

import pytest

from recommendations.changes import EventSourceMappingChange, EventSourceMappingSettings
from recommendations.pricing import SECONDS_PER_MONTH
from recommendations.recommendation import Severity, TradeOff
from recommendations.rules.base import Outcome
from recommendations.rules.batching import (
    NoPartialBatchResponse,
    QueueWithoutRedrive,
    SmallBatchesAtHighVolume,
    StreamFailuresDiscarded,
    StreamRetriesForever,
    source_name,
    stream_failure_queue_name,
)
from recommendations.snapshot import EventSourceKind, EventSourceMapping, RedrivePolicy
from tests.recommendations.builders import X86_GB_S, evidence_of, function, run, single, stats

QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/stock/stream/2026-01-15T10:00:00.000"


def mapping(kind: EventSourceKind = EventSourceKind.SQS, **fields: Any) -> EventSourceMapping:
    base: dict[str, Any] = {
        "uuid": "uuid-1",
        "source_arn": QUEUE if kind is EventSourceKind.SQS else STREAM,
        "kind": kind,
        "batch_size": 1,
        "maximum_batching_window_s": 0,
    }
    if kind is EventSourceKind.SQS:
        base.update(queue_is_fifo=False, queue_visibility_timeout_s=60)
    base.update(fields)
    return EventSourceMapping(**base)


BUSY = stats(invocations=3_000_000, billed_duration_avg_ms=100.0, errors=30)


def test_source_names_are_readable() -> None:
    assert source_name(mapping()) == "jobs"
    assert source_name(mapping(EventSourceKind.KINESIS)) == "clicks"
    assert source_name(mapping(EventSourceKind.DYNAMODB, source_arn=TABLE_STREAM)) == "stock"


class TestSmallBatchesAtHighVolume:
    rule = SmallBatchesAtHighVolume()

    def test_sqs_standard_gets_100_with_a_5_s_window(self) -> None:
        rec = single(run(self.rule, function(event_source_mappings=(mapping(),), stats_=BUSY)))
        assert rec.change == EventSourceMappingChange(
            function_name="orders",
            mapping_uuid="uuid-1",
            source_arn=QUEUE,
            before=EventSourceMappingSettings(batch_size=1, maximum_batching_window_s=0),
            after=EventSourceMappingSettings(batch_size=100, maximum_batching_window_s=5),
        )
        # 3M one-message invocations a month = 1.14 messages/s; a 5 s window gathers 5.7.
        filled = 3_000_000 / SECONDS_PER_MONTH * 5
        cut = 1 - 1 / filled
        requests = 3_000_000 * 0.0000002
        compute = 3_000_000 * 0.1 * X86_GB_S
        assert rec.monthly_savings_usd == rec.monthly_savings_low_usd == round(requests * cut, 2)
        assert rec.monthly_savings_high_usd == round((requests + compute) * cut, 2) == 4.62
        assert rec.title == "Batch the jobs trigger: 1 → 100 per invocation"

    def test_fifo_queues_get_ten_and_no_window(self) -> None:
        fn = function(
            event_source_mappings=(mapping(batch_size=5, queue_is_fifo=True),), stats_=BUSY
        )
        change = single(run(self.rule, fn)).change
        assert isinstance(change, EventSourceMappingChange)
        assert change.after == EventSourceMappingSettings(
            batch_size=10, maximum_batching_window_s=0
        )

    def test_streams_get_100_with_a_1_s_window(self) -> None:
        fn = function(
            event_source_mappings=(mapping(EventSourceKind.KINESIS, batch_size=10),), stats_=BUSY
        )
        change = single(run(self.rule, fn)).change
        assert isinstance(change, EventSourceMappingChange)
        assert change.changed_fields == ("batch_size", "maximum_batching_window_s")
        assert (change.after.batch_size, change.after.maximum_batching_window_s) == (100, 1)

    @pytest.mark.parametrize(
        ("fields", "traffic"),
        [
            ({}, stats(invocations=500_000, billed_duration_avg_ms=100.0)),
            ({"batch_size": 50}, BUSY),
            ({"maximum_batching_window_s": 2}, BUSY),
        ],
    )
    def test_passes_at_low_volume_or_with_batching(
        self, fields: dict[str, Any], traffic: Any
    ) -> None:
        fn = function(event_source_mappings=(mapping(**fields),), stats_=traffic)
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_without_batch_size_traffic_or_queue_type(self) -> None:
        for fn in (
            function(event_source_mappings=(mapping(batch_size=None),), stats_=BUSY),
            function(event_source_mappings=(mapping(),), stats_=stats()),
            function(event_source_mappings=(mapping(queue_is_fifo=None),), stats_=BUSY),
        ):
            assert run(self.rule, fn).outcome is Outcome.UNKNOWN

    def test_not_applicable_without_triggers(self) -> None:
        assert run(self.rule, function(stats_=BUSY)).outcome is Outcome.NOT_APPLICABLE


class TestNoPartialBatchResponse:
    rule = NoPartialBatchResponse()

    def test_advice_for_batches_without_report_batch_item_failures(self) -> None:
        fn = function(event_source_mappings=(mapping(batch_size=10),), stats_=BUSY)
        rec = single(run(self.rule, fn))
        assert rec.change is None  # the handler must change first
        assert rec.title == "Report partial batch failures from jobs"
        assert rec.severity is Severity.MEDIUM  # the function has errors

    @pytest.mark.parametrize(
        "fields",
        [
            {"batch_size": 1},
            {"batch_size": 10, "function_response_types": ("ReportBatchItemFailures",)},
        ],
    )
    def test_passes_for_single_records_or_partial_responses(self, fields: dict[str, Any]) -> None:
        fn = function(event_source_mappings=(mapping(**fields),), stats_=BUSY)
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_without_batch_size(self) -> None:
        fn = function(event_source_mappings=(mapping(batch_size=None),))
        assert run(self.rule, fn).outcome is Outcome.UNKNOWN


STOCK_QUEUE = "tunebot-orders-stock-failures"
STOCK_QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{STOCK_QUEUE}"
DEAD = "arn:aws:sqs:us-east-1:123456789012:dead"


def stream(**fields: Any) -> EventSourceMapping:
    """A DynamoDB stream trigger as AWS defaults it: retries forever, no bisect, no destination."""
    base: dict[str, Any] = {
        "batch_size": 100,
        "maximum_retry_attempts": -1,
        "maximum_record_age_s": -1,
        "bisect_batch_on_function_error": False,
    }
    base.update(fields)
    return mapping(EventSourceKind.DYNAMODB, source_arn=TABLE_STREAM, **base)


def settings_of(m: EventSourceMapping) -> EventSourceMappingSettings:
    return EventSourceMappingSettings(
        batch_size=m.batch_size,
        maximum_batching_window_s=m.maximum_batching_window_s,
        maximum_retry_attempts=m.maximum_retry_attempts,
        maximum_record_age_s=m.maximum_record_age_s,
        bisect_batch_on_function_error=m.bisect_batch_on_function_error,
        on_failure_destination=m.on_failure_destination,
    )


class TestStreamRetriesForever:
    rule = StreamRetriesForever()

    def test_bounds_retries_bisects_and_creates_a_failure_queue(self) -> None:
        fn = function(
            event_source_mappings=(stream(),), stats_=stats(iterator_age_max_ms=600_000.0)
        )
        rec = single(run(self.rule, fn))
        before = settings_of(stream())
        assert rec.change == EventSourceMappingChange(
            function_name="orders",
            mapping_uuid="uuid-1",
            source_arn=TABLE_STREAM,
            before=before,
            after=before.model_copy(
                update={
                    "maximum_retry_attempts": 10,
                    "bisect_batch_on_function_error": True,
                    "on_failure_destination": STOCK_QUEUE_ARN,
                }
            ),
            create_queue_name=STOCK_QUEUE,
        )
        assert rec.change.describe() == (
            "On the stock trigger of orders: maximum retry attempts unlimited → 10; bisect "
            "batch on function error off → on; on failure destination none → a new encrypted "
            f"SQS queue {STOCK_QUEUE}"
        )
        assert rec.title == (
            "Stop the stock stream retrying forever: 10 retries, bisect, keep failed records"
        )
        assert rec.severity is Severity.HIGH
        assert rec.trade_off is TradeOff.SAFETY
        assert evidence_of(rec) == {
            "Maximum retry attempts": "unlimited",
            "Maximum record age": "unlimited",
            "Bisect batch on error": "off",
            "On-failure destination": "none",
            "Iterator age (max)": 600.0,
        }
        assert rec.notes[0] == (
            "Lambda sends failure records with the function's execution role: it needs "
            "sqs:SendMessage on the new queue (tunebot adds it only when allowed to change IAM)."
        )

    @pytest.mark.parametrize(
        ("fields", "changed"),
        [
            # Bisect alone isolates the bad record, then retries it alone until it expires.
            (
                {"bisect_batch_on_function_error": True},
                ("maximum_retry_attempts", "on_failure_destination"),
            ),
            # A destination alone receives nothing while retries never run out.
            (
                {"on_failure_destination": DEAD},
                ("maximum_retry_attempts", "bisect_batch_on_function_error"),
            ),
            # Both still retry forever; null is what a snapshot may say for "unlimited".
            (
                {
                    "bisect_batch_on_function_error": True,
                    "on_failure_destination": DEAD,
                    "maximum_retry_attempts": None,
                    "maximum_record_age_s": None,
                },
                ("maximum_retry_attempts",),
            ),
        ],
    )
    def test_fires_whatever_bisect_and_destination_say(
        self, fields: dict[str, Any], changed: tuple[str, ...]
    ) -> None:
        rec = single(run(self.rule, function(event_source_mappings=(stream(**fields),))))
        assert isinstance(rec.change, EventSourceMappingChange)
        assert rec.change.changed_fields == changed
        assert rec.change.after.maximum_retry_attempts == 10
        assert rec.change.after.bisect_batch_on_function_error is True
        # An existing destination is kept; only a missing one brings a new queue.
        expected_queue = None if fields.get("on_failure_destination") else STOCK_QUEUE
        assert rec.change.create_queue_name == expected_queue
        assert rec.change.after.on_failure_destination == (
            fields.get("on_failure_destination") or STOCK_QUEUE_ARN
        )

    @pytest.mark.parametrize(
        "fields", [{"maximum_retry_attempts": 3}, {"maximum_record_age_s": 3600}]
    )
    def test_passes_when_retries_or_record_age_are_bounded(self, fields: dict[str, Any]) -> None:
        result = run(self.rule, function(event_source_mappings=(stream(**fields),)))
        assert (result.outcome, result.reason) == (
            Outcome.PASS,
            "every stream trigger's retries are bounded",
        )

    def test_its_own_change_silences_it(self) -> None:
        rec = single(run(self.rule, function(event_source_mappings=(stream(),))))
        assert isinstance(rec.change, EventSourceMappingChange)
        after = rec.change.after
        applied = stream(
            maximum_retry_attempts=after.maximum_retry_attempts,
            bisect_batch_on_function_error=after.bisect_batch_on_function_error,
            on_failure_destination=after.on_failure_destination,
        )
        fn = function(event_source_mappings=(applied,))
        assert run(self.rule, fn).outcome is Outcome.PASS
        # ...and leaves nothing for BAT-005: the failures are kept.
        assert run(StreamFailuresDiscarded(), fn).outcome is Outcome.PASS

    def test_unknown_without_bisect_setting(self) -> None:
        fn = function(event_source_mappings=(stream(bisect_batch_on_function_error=None),))
        result = run(self.rule, fn)
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "the bisect setting of the stock trigger is unknown",
        )

    def test_not_applicable_to_queues(self) -> None:
        fn = function(event_source_mappings=(mapping(),))
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE


class TestStreamFailuresDiscarded:
    rule = StreamFailuresDiscarded()

    def test_proposes_a_failure_queue_for_bounded_retries_without_destination(self) -> None:
        bounded = stream(maximum_retry_attempts=3, bisect_batch_on_function_error=True)
        fn = function(event_source_mappings=(bounded,), stats_=stats(errors=12))
        rec = single(run(self.rule, fn))
        before = settings_of(bounded)
        assert rec.change == EventSourceMappingChange(
            function_name="orders",
            mapping_uuid="uuid-1",
            source_arn=TABLE_STREAM,
            before=before,
            after=before.model_copy(update={"on_failure_destination": STOCK_QUEUE_ARN}),
            create_queue_name=STOCK_QUEUE,
        )
        assert rec.change.changed_fields == ("on_failure_destination",)
        assert rec.title == "Keep records the stock stream gives up on in an SQS queue"
        assert rec.rationale == (
            "orders gives up on a failing stock batch after 3 retries and has no on-failure "
            "destination: its records are skipped without a trace. It has errors in this "
            "window, so records were probably skipped. Send the failed batches' details to a "
            f"new encrypted SQS queue, {STOCK_QUEUE}."
        )
        assert rec.severity is Severity.HIGH
        assert evidence_of(rec) == {
            "On-failure destination": "none",
            "Maximum retry attempts": 3,
            "Maximum record age": "unlimited",
            "Errors": 12,
        }

    def test_a_bounded_record_age_alone_counts_and_no_errors_is_medium(self) -> None:
        aged = stream(maximum_record_age_s=3600)
        rec = single(
            run(self.rule, function(event_source_mappings=(aged,), stats_=stats(errors=0)))
        )
        assert rec.severity is Severity.MEDIUM
        assert "after a record age of 3,600 s and has no" in rec.rationale

    @pytest.mark.parametrize(
        "fields",
        [
            {"maximum_retry_attempts": 3, "on_failure_destination": DEAD},
            {},  # retries forever: BAT-003's, whose change adds the destination too
        ],
    )
    def test_passes_with_a_destination_or_unbounded_retries(self, fields: dict[str, Any]) -> None:
        result = run(self.rule, function(event_source_mappings=(stream(**fields),)))
        assert (result.outcome, result.reason) == (
            Outcome.PASS,
            "every stream trigger keeps its failed records",
        )

    def test_its_own_change_silences_it(self) -> None:
        bounded = stream(maximum_retry_attempts=3)
        rec = single(run(self.rule, function(event_source_mappings=(bounded,))))
        assert isinstance(rec.change, EventSourceMappingChange)
        applied = stream(
            maximum_retry_attempts=3, on_failure_destination=rec.change.after.on_failure_destination
        )
        assert run(self.rule, function(event_source_mappings=(applied,))).outcome is Outcome.PASS

    def test_unknown_when_the_failure_settings_were_not_read(self) -> None:
        fn = function(
            event_source_mappings=(
                stream(maximum_retry_attempts=3, bisect_batch_on_function_error=None),
            )
        )
        result = run(self.rule, fn)
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "the failure settings of the stock trigger were not read",
        )

    def test_not_applicable_to_queues(self) -> None:
        fn = function(event_source_mappings=(mapping(),))
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE


def test_failure_queue_names_fit_sqs() -> None:
    long_name = "f" * 70
    name = stream_failure_queue_name(long_name, stream())
    assert len(name) == 80
    assert name.startswith("tunebot-fff") and name.endswith("-failures")
    kinesis = mapping(EventSourceKind.KINESIS, source_arn=STREAM.replace("clicks", "click.v2"))
    # SQS queue names take letters, digits, hyphens and underscores only.
    assert stream_failure_queue_name("orders", kinesis) == "tunebot-orders-click-v2-failures"


class TestQueueWithoutRedrive:
    rule = QueueWithoutRedrive()

    def test_advice_for_a_queue_without_dead_letter_queue(self) -> None:
        rec = single(run(self.rule, function(event_source_mappings=(mapping(),))))
        assert (rec.title, rec.change) == ("Give queue jobs a dead-letter queue", None)

    def test_passes_with_a_redrive_policy(self) -> None:
        policy = RedrivePolicy(dead_letter_target_arn=QUEUE + "-dlq", max_receive_count=5)
        fn = function(event_source_mappings=(mapping(queue_redrive_policy=policy),))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_when_queue_attributes_were_not_read(self) -> None:
        fn = function(event_source_mappings=(mapping(queue_visibility_timeout_s=None),))
        result = run(self.rule, fn)
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "the attributes of queue jobs were not read",
        )


def test_settings_outside_lambdas_ranges_are_unknown_not_a_crash() -> None:
    odd = mapping(
        EventSourceKind.KINESIS,
        batch_size=20000,
        maximum_retry_attempts=-1,
        maximum_record_age_s=-1,
        bisect_batch_on_function_error=False,
    )
    result = run(StreamRetriesForever(), function(event_source_mappings=(odd,)))
    assert (result.outcome, result.reason) == (
        Outcome.UNKNOWN,
        "the clicks trigger's settings are outside Lambda's ranges",
    )

"""BAT-001..004: batch sizes, partial batch responses, stream retries, SQS redrive."""

from __future__ import annotations

from typing import Any

import pytest

from recommendations.changes import EventSourceMappingChange, EventSourceMappingSettings
from recommendations.pricing import SECONDS_PER_MONTH
from recommendations.recommendation import Severity
from recommendations.rules.base import Outcome
from recommendations.rules.batching import (
    NoPartialBatchResponse,
    QueueWithoutRedrive,
    SmallBatchesAtHighVolume,
    StreamRetriesForever,
    source_name,
)
from recommendations.snapshot import EventSourceKind, EventSourceMapping, RedrivePolicy
from tests.recommendations.builders import X86_GB_S, function, run, single, stats

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


class TestStreamRetriesForever:
    rule = StreamRetriesForever()

    def forever(self, **fields: Any) -> EventSourceMapping:
        base: dict[str, Any] = {
            "batch_size": 100,
            "maximum_retry_attempts": -1,
            "maximum_record_age_s": -1,
            "bisect_batch_on_function_error": False,
        }
        base.update(fields)
        return mapping(EventSourceKind.DYNAMODB, source_arn=TABLE_STREAM, **base)

    def test_turns_on_bisection(self) -> None:
        fn = function(
            event_source_mappings=(self.forever(),), stats_=stats(iterator_age_max_ms=600_000.0)
        )
        rec = single(run(self.rule, fn))
        assert isinstance(rec.change, EventSourceMappingChange)
        assert rec.change.changed_fields == ("bisect_batch_on_function_error",)
        assert rec.change.after.bisect_batch_on_function_error is True
        assert rec.severity is Severity.HIGH
        assert {e.label: e.value for e in rec.evidence}["Iterator age (max)"] == 600.0

    @pytest.mark.parametrize(
        "fields",
        [
            {"maximum_retry_attempts": 3},
            {"bisect_batch_on_function_error": True},
            {"on_failure_destination": "arn:aws:sqs:us-east-1:123456789012:dead"},
        ],
    )
    def test_passes_when_failures_are_bounded(self, fields: dict[str, Any]) -> None:
        fn = function(event_source_mappings=(self.forever(**fields),))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_without_bisect_setting(self) -> None:
        fn = function(event_source_mappings=(self.forever(bisect_batch_on_function_error=None),))
        assert run(self.rule, fn).outcome is Outcome.UNKNOWN

    def test_not_applicable_to_queues(self) -> None:
        fn = function(event_source_mappings=(mapping(),))
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE


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

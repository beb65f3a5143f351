"""ASYNC-001 and ASYNC-002: lost failures and dropped or ageing async events."""

from __future__ import annotations

from recommendations.changes import AsyncFailureDestinationChange, AsyncSettings
from recommendations.recommendation import Confidence, Severity
from recommendations.rules.async_invoke import (
    AsyncEventsDroppedOrAgeing,
    AsyncWithoutFailureDestination,
    failure_queue_name,
)
from recommendations.rules.base import Outcome
from recommendations.snapshot import AsyncInvokeConfig, InvokeSource
from tests.recommendations.builders import function, run, single, stats

S3 = (InvokeSource.S3,)


class TestAsyncWithoutFailureDestination:
    rule = AsyncWithoutFailureDestination()

    def test_proposes_a_new_failure_queue(self) -> None:
        rec = single(run(self.rule, function(invoked_by=S3)))
        assert rec.change == AsyncFailureDestinationChange(
            function_name="orders",
            before=AsyncSettings(on_failure_destination=None),
            after=AsyncSettings(
                on_failure_destination="arn:aws:sqs:us-east-1:123456789012:tunebot-orders-failures"
            ),
            create_queue_name="tunebot-orders-failures",
        )
        assert (rec.severity, rec.confidence) == (Severity.MEDIUM, Confidence.MEDIUM)

    def test_keeps_retry_settings_and_is_urgent_with_errors(self) -> None:
        fn = function(
            async_config=AsyncInvokeConfig(maximum_retry_attempts=0, maximum_event_age_s=600),
            stats_=stats(async_events_received=1000, errors=12),
        )
        rec = single(run(self.rule, fn))
        assert isinstance(rec.change, AsyncFailureDestinationChange)
        assert (rec.change.after.maximum_retry_attempts, rec.change.after.maximum_event_age_s) == (
            0,
            600,
        )
        assert (rec.severity, rec.confidence) == (Severity.HIGH, Confidence.HIGH)

    def test_queue_names_fit_sqs_limit(self) -> None:
        name = failure_queue_name("f" * 64)
        assert len(name) == 80
        assert name.startswith("tunebot-f") and name.endswith("f-failures")

    def test_passes_with_a_dlq_or_destination(self) -> None:
        dlq = function(invoked_by=S3, dead_letter_target_arn="arn:aws:sqs:us-east-1:1:dlq")
        destination = function(
            invoked_by=S3,
            async_config=AsyncInvokeConfig(on_failure_destination="arn:aws:sqs:us-east-1:1:f"),
        )
        assert run(self.rule, dlq).outcome is Outcome.PASS
        assert run(self.rule, destination).outcome is Outcome.PASS

    def test_not_applicable_to_synchronous_functions(self) -> None:
        fn = function(invoked_by=(InvokeSource.API_GATEWAY,))
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE

    def test_unknown_when_callers_are_unknown(self) -> None:
        assert run(self.rule, function()).outcome is Outcome.UNKNOWN


class TestAsyncEventsDroppedOrAgeing:
    rule = AsyncEventsDroppedOrAgeing()

    def test_dropped_events_are_urgent(self) -> None:
        fn = function(invoked_by=S3, stats_=stats(async_events_dropped=10, throttles=400))
        rec = single(run(self.rule, fn))
        assert rec.severity is Severity.HIGH
        assert rec.title == "Put an SQS queue in front: async events are dropped"
        assert {e.label: e.value for e in rec.evidence} == {
            "Async events dropped": 10,
            "Maximum event age": 21600,
            "Throttles": 400,
        }

    def test_ageing_events(self) -> None:
        fn = function(
            invoked_by=S3, stats_=stats(async_events_dropped=0, async_event_age_max_ms=600_000.0)
        )
        rec = single(run(self.rule, fn))
        assert (rec.severity, rec.change) == (Severity.MEDIUM, None)
        assert rec.rationale.startswith("async events for orders waited up to 600 s.")

    def test_passes_when_events_flow(self) -> None:
        fn = function(
            invoked_by=S3, stats_=stats(async_events_dropped=0, async_event_age_max_ms=900.0)
        )
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_without_metrics_and_not_applicable_to_sync(self) -> None:
        assert run(self.rule, function(invoked_by=S3, stats_=stats())).outcome is Outcome.UNKNOWN
        fn = function(invoked_by=(InvokeSource.ALB,), stats_=stats(async_events_dropped=3))
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE


def test_an_out_of_range_invoke_config_is_unknown_not_a_crash() -> None:
    fn = function(invoked_by=S3, async_config=AsyncInvokeConfig(maximum_event_age_s=30))
    result = run(AsyncWithoutFailureDestination(), fn)
    assert (result.outcome, result.reason) == (
        Outcome.UNKNOWN,
        "the event invoke config holds values outside Lambda's ranges",
    )

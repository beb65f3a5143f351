"""TMO-001..004: timeouts hit, thin headroom, far above need, callers' limits."""

from __future__ import annotations

from recommendations.changes import TimeoutChange
from recommendations.recommendation import Confidence, Severity, TradeOff
from recommendations.rules.base import Outcome
from recommendations.rules.timeout import (
    ThinTimeoutHeadroom,
    TimeoutBreaksConstraint,
    TimeoutFarAboveNeed,
    TimeoutsHappening,
    timeout_ceiling,
)
from recommendations.snapshot import (
    EventSourceKind,
    EventSourceMapping,
    FigureSource,
    InvokeSource,
)
from tests.recommendations.builders import X86_GB_S, function, run, single, stats

API = (InvokeSource.API_GATEWAY,)


def sqs(visibility: int | None) -> EventSourceMapping:
    return EventSourceMapping(
        uuid="uuid-1",
        source_arn="arn:aws:sqs:us-east-1:123456789012:jobs",
        kind=EventSourceKind.SQS,
        batch_size=10,
        queue_visibility_timeout_s=visibility,
    )


def test_ceiling_is_the_tightest_callers_limit() -> None:
    assert timeout_ceiling(function()) == (900, "Lambda's 900 s maximum")
    assert timeout_ceiling(function(invoked_by=API))[0] == 29
    assert timeout_ceiling(function(invoked_by=API, event_source_mappings=(sqs(90),))) == (
        15,
        "the jobs queue's 90 s visibility timeout (≥ 6 × timeout)",
    )


class TestTimeoutsHappening:
    rule = TimeoutsHappening()

    def test_doubles_the_timeout_and_prices_the_worst_case(self) -> None:
        fn = function(
            timeout_s=10,
            stats_=stats(
                invocations=1_000_000,
                billed_duration_avg_ms=500.0,
                timeouts=20,
                log_sample_invocations=1000,
            ),
        )
        rec = single(run(self.rule, fn))
        assert rec.change == TimeoutChange(function_name="orders", before=10, after=20)
        # 2% of 1M invocations running 10 s longer at 1 GB.
        assert rec.monthly_savings_usd == -round(0.02 * 1_000_000 * 10 * X86_GB_S, 2) == -3.33
        assert rec.trade_off is TradeOff.SAFETY
        assert rec.severity is Severity.HIGH
        assert rec.title == "20 invocations hit the 10 s timeout; raise it to 20 s"

    def test_stays_within_the_sqs_visibility_limit(self) -> None:
        fn = function(
            timeout_s=10,
            event_source_mappings=(sqs(90),),
            stats_=stats(timeouts=3, log_sample_invocations=1000),
        )
        rec = single(run(self.rule, fn))
        assert rec.change == TimeoutChange(function_name="orders", before=10, after=15)
        assert rec.severity is Severity.MEDIUM  # 0.3%

    def test_advice_only_when_api_gateway_allows_no_more(self) -> None:
        fn = function(timeout_s=29, invoked_by=API, stats_=stats(timeouts=5))
        rec = single(run(self.rule, fn))
        assert rec.change is None
        assert "cannot grow past 29 s because of API Gateway's 29 s integration limit" in (
            rec.rationale
        )

    def test_passes_without_timeouts(self) -> None:
        assert run(self.rule, function(stats_=stats(timeouts=0))).outcome is Outcome.PASS

    def test_unknown_without_log_data(self) -> None:
        assert run(self.rule, function(stats_=stats(invocations=5))).outcome is Outcome.UNKNOWN


class TestThinTimeoutHeadroom:
    rule = ThinTimeoutHeadroom()

    def test_raises_to_one_and_a_half_times_the_slowest(self) -> None:
        fn = function(timeout_s=10, stats_=stats(duration_p99_ms=8500.0, duration_max_ms=9000.0))
        rec = single(run(self.rule, fn))
        assert rec.change == TimeoutChange(function_name="orders", before=10, after=14)
        assert rec.confidence is Confidence.HIGH
        assert {e.label: e.value for e in rec.evidence}["Share of timeout"] == 90.0

    def test_a_p99_read_from_logs_is_labelled_as_such(self) -> None:
        from_logs = stats(duration_p99_ms=8500.0, duration_percentiles_source=FigureSource.LOGS)
        rec = single(run(self.rule, function(timeout_s=10, stats_=from_logs)))
        assert {e.label: e.source for e in rec.evidence}["Slowest invocation (p99/max)"] == "logs"
        with_max = stats(
            duration_p99_ms=8500.0,
            duration_max_ms=9000.0,
            duration_percentiles_source=FigureSource.LOGS,
        )
        rec = single(run(self.rule, function(timeout_s=10, stats_=with_max)))
        assert {e.label: e.source for e in rec.evidence}["Slowest invocation (p99/max)"] == (
            "metrics"
        )

    def test_advice_when_the_caller_allows_no_more(self) -> None:
        fn = function(timeout_s=29, invoked_by=API, stats_=stats(duration_max_ms=27000.0))
        assert single(run(self.rule, fn)).change is None

    def test_passes_with_headroom_or_when_tmo_001_applies(self) -> None:
        assert run(
            self.rule, function(timeout_s=10, stats_=stats(duration_max_ms=5000.0))
        ).reason == ("the slowest invocation uses 50.0% of the timeout")
        fn = function(timeout_s=10, stats_=stats(duration_max_ms=10000.0, timeouts=2))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_without_durations(self) -> None:
        assert run(self.rule, function(stats_=stats())).outcome is Outcome.UNKNOWN


class TestTimeoutFarAboveNeed:
    rule = TimeoutFarAboveNeed()

    def test_cuts_900_s_for_a_200_ms_function(self) -> None:
        fn = function(timeout_s=900, stats_=stats(invocations=5000, duration_max_ms=200.0))
        rec = single(run(self.rule, fn))
        assert rec.change == TimeoutChange(function_name="orders", before=900, after=3)
        assert rec.confidence is Confidence.HIGH
        assert {e.label: e.value for e in rec.evidence}["Billed per stuck invocation"] == 900.0

    def test_passes_when_the_timeout_fits(self) -> None:
        fn = function(timeout_s=10, stats_=stats(invocations=5000, duration_max_ms=2000.0))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_with_too_few_invocations_or_no_maximum(self) -> None:
        few = run(self.rule, function(stats_=stats(invocations=50, duration_max_ms=200.0)))
        assert (few.outcome, few.reason) == (
            Outcome.UNKNOWN,
            "only 50 invocations; need 100 before the slowest one is a fair guide",
        )
        assert run(self.rule, function(stats_=stats(invocations=5000))).outcome is Outcome.UNKNOWN


class TestTimeoutBreaksConstraint:
    rule = TimeoutBreaksConstraint()

    def test_lowers_an_api_timeout_to_29_s_when_durations_allow(self) -> None:
        fn = function(timeout_s=60, invoked_by=API, stats_=stats(duration_max_ms=12000.0))
        rec = single(run(self.rule, fn))
        assert rec.change == TimeoutChange(function_name="orders", before=60, after=29)
        assert rec.severity is Severity.MEDIUM

    def test_flags_sqs_visibility_under_six_times_the_timeout(self) -> None:
        fn = function(
            timeout_s=60,
            invoked_by=(InvokeSource.EVENT_SOURCE_MAPPING,),
            event_source_mappings=(sqs(120),),
            stats_=stats(duration_max_ms=30000.0),
        )
        rec = single(run(self.rule, fn))
        # 30 s × 1.2 = 36 s does not fit 120 / 6 = 20 s: advice to raise the visibility timeout.
        assert rec.change is None
        assert rec.severity is Severity.HIGH
        assert "queue jobs has a 120 s visibility timeout, under 6 × 60 s = 360 s" in rec.rationale
        assert rec.rationale.endswith(
            "The function needs its time (or its durations are unknown): raise the visibility "
            "timeout of queue jobs to at least 360 s."
        )

    def test_advice_for_an_api_only_function_names_no_queue(self) -> None:
        fn = function(timeout_s=60, invoked_by=API, stats_=stats(duration_max_ms=45000.0))
        rec = single(run(self.rule, fn))
        assert rec.change is None
        assert rec.rationale == (
            "orders: API Gateway gives up after 29 s but the function may run 60 s. The function "
            "needs its time (or its durations are unknown): make the API asynchronous (accept "
            "the request, answer 202 and do the work behind a queue)."
        )
        assert "visibility" not in rec.rationale

    def test_advice_covers_each_caller_with_a_problem(self) -> None:
        fn = function(
            timeout_s=60,
            invoked_by=(InvokeSource.API_GATEWAY, InvokeSource.EVENT_SOURCE_MAPPING),
            event_source_mappings=(sqs(120),),
        )
        rec = single(run(self.rule, fn))
        assert rec.rationale.endswith(
            ": make the API asynchronous (accept the request, answer 202 and do the work behind "
            "a queue); raise the visibility timeout of queue jobs to at least 360 s."
        )

    def test_never_proposes_the_timeout_it_already_has(self) -> None:
        # A 1 s timeout on a queue with a 0 s visibility timeout: the ceiling (1 s, the
        # minimum) is today's timeout, so only the queue can change (found by hypothesis).
        fn = function(
            timeout_s=1,
            invoked_by=(InvokeSource.EVENT_SOURCE_MAPPING,),
            event_source_mappings=(sqs(0),),
            stats_=stats(duration_max_ms=0.0),
        )
        rec = single(run(self.rule, fn))
        assert rec.change is None
        assert rec.title == "The timeout does not fit its callers' limits"

    def test_passes_when_the_timeout_fits(self) -> None:
        fn = function(timeout_s=20, invoked_by=API, event_source_mappings=(sqs(180),))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_unknown_when_callers_are_unknown(self) -> None:
        result = run(self.rule, function(timeout_s=60))
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "who invokes the function is unknown",
        )

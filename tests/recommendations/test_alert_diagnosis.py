"""The likely cause of an alarm, from the function's snapshot and the engine's recommendations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from recommendations.alerts import (
    AlarmSignal,
    CauseKind,
    UsageWindow,
    diagnose_alarm,
    explain_cost_change,
)
from recommendations.changes import MemoryChange, ReservedConcurrencyChange, TimeoutChange
from recommendations.recommendation import Category, Confidence, Recommendation, Severity
from recommendations.snapshot import (
    EventSourceKind,
    EventSourceMapping,
    FunctionSnapshot,
    FunctionStats,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-worker"


def function(**changes: Any) -> FunctionSnapshot:
    stats = changes.pop("stats", {})
    base: dict[str, Any] = {
        "name": "orders-worker",
        "arn": ARN,
        "account_id": "123456789012",
        "region": "us-east-1",
        "runtime": "python3.12",
        "memory_mb": 512,
        "timeout_s": 30,
        "stats": FunctionStats(window_days=14, **stats) if stats is not None else None,
    }
    base.update(changes)
    return FunctionSnapshot(**base)


def recommendation(category: Category, change: Any = None, rule: str = "X-001") -> Recommendation:
    return Recommendation(
        function="orders-worker",
        function_arn=ARN,
        region="us-east-1",
        account_id="123456789012",
        rule_id=rule,
        category=category,
        severity=Severity.MEDIUM,
        title=f"{category.value} advice",
        rationale="because",
        confidence=Confidence.MEDIUM,
        change=change,
    )


def test_duration_alarm_on_an_under_provisioned_function() -> None:
    raise_memory = recommendation(
        Category.MEMORY, MemoryChange(function_name="orders-worker", before=512, after=1536)
    )
    timeout = recommendation(
        Category.TIMEOUT, TimeoutChange(function_name="orders-worker", before=30, after=10), "T-1"
    )
    concurrency = recommendation(Category.CONCURRENCY, rule="C-1")
    fn = function(stats={"max_memory_used_mb": 470, "log_sample_invocations": 1000})
    signal = AlarmSignal(
        metric_names=("Duration",), statistic="p99", threshold=2500, observed_value=2874.3
    )
    diagnosis = diagnose_alarm(fn, signal, [concurrency, raise_memory, timeout])
    assert [cause.kind for cause in diagnosis.causes] == [CauseKind.UNDER_PROVISIONED]
    assert diagnosis.headline == (
        "Under-provisioned: at 512 MB the function gets 0.29 vCPU and uses 470 MB of it, so "
        "garbage collection slows it down; tunebot recommends 1536 MB."
    )
    assert diagnosis.causes[0].confidence is Confidence.HIGH
    assert diagnosis.relevant == (raise_memory, timeout)
    assert diagnosis.others == (concurrency,)
    assert diagnosis.unknowns == ()


def test_duration_near_the_timeout_and_cold_starts() -> None:
    fn = function(
        timeout_s=3,
        memory_mb=2048,
        stats={
            "log_sample_invocations": 200,
            "cold_starts": 20,
            "init_duration_avg_ms": 900.0,
        },
    )
    signal = AlarmSignal(metric_names=("Duration",), statistic="p99", observed_value=2950.0)
    diagnosis = diagnose_alarm(fn, signal)
    assert [cause.kind for cause in diagnosis.causes] == [
        CauseKind.NEAR_TIMEOUT,
        CauseKind.COLD_STARTS,
    ]
    assert diagnosis.causes[0].summary == (
        "Invocations run into the 3 s timeout: the alarm saw 2,950 ms."
    )
    assert diagnosis.causes[1].summary == (
        "Cold starts: 10% of invocations start cold and spend 900 ms in init, which lands in "
        "the high percentiles."
    )


def test_errors_that_are_timeouts_and_out_of_memory() -> None:
    fn = function(
        stats={
            "errors": 40,
            "invocations": 1000,
            "log_sample_invocations": 1000,
            "timeouts": 30,
            "out_of_memory": 10,
        }
    )
    diagnosis = diagnose_alarm(fn, AlarmSignal(metric_names=("Errors",)))
    assert [cause.kind for cause in diagnosis.causes] == [
        CauseKind.TIMEOUTS,
        CauseKind.OUT_OF_MEMORY,
    ]
    assert diagnosis.causes[0].summary == (
        "Errors are timeouts: 30 invocations ran past the 30 s timeout (75% of errors)."
    )
    assert diagnosis.causes[1].summary == (
        "Errors are out-of-memory kills: 10 invocations used all 512 MB."
    )


def test_errors_from_code_and_unknown_without_logs() -> None:
    from_code = diagnose_alarm(
        function(
            stats={"errors": 5, "log_sample_invocations": 300, "timeouts": 0, "out_of_memory": 0}
        ),
        AlarmSignal(metric_names=("Errors",)),
    )
    assert [cause.kind for cause in from_code.causes] == [CauseKind.CODE_ERRORS]
    no_logs = diagnose_alarm(function(stats={"errors": 5}), AlarmSignal(metric_names=("Errors",)))
    assert no_logs.causes == ()
    assert no_logs.unknowns == (
        "No REPORT log lines were read, so timeouts and memory use are unknown.",
    )
    assert no_logs.headline == "No likely cause found in the data tunebot has for this function."


def test_throttles_against_reserved_concurrency() -> None:
    fn = function(reserved_concurrency=10, stats={"concurrent_executions_max": 10.0})
    reserve = recommendation(
        Category.CONCURRENCY,
        ReservedConcurrencyChange(function_name="orders-worker", before=10, after=25),
    )
    diagnosis = diagnose_alarm(fn, AlarmSignal(metric_names=("Throttles",)), [reserve])
    (cause,) = diagnosis.causes
    assert cause.kind is CauseKind.RESERVED_CONCURRENCY
    assert cause.summary == "Throttled against its reserved concurrency of 10 (peak 10 concurrent)."
    assert cause.confidence is Confidence.HIGH
    assert diagnosis.relevant == (reserve,)


def test_throttles_without_reserved_concurrency_and_with_zero() -> None:
    account = diagnose_alarm(function(stats={}), AlarmSignal(metric_names=("Throttles",)))
    assert account.causes[0].kind is CauseKind.ACCOUNT_CONCURRENCY
    disabled = diagnose_alarm(
        function(reserved_concurrency=0, stats={}), AlarmSignal(metric_names=("Throttles",))
    )
    assert disabled.causes[0].summary == (
        "Reserved concurrency is 0: every invocation of the function is throttled."
    )


def test_iterator_age_with_small_batches() -> None:
    mapping = EventSourceMapping(
        uuid="u-1",
        source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        kind=EventSourceKind.KINESIS,
        batch_size=10,
        maximum_retry_attempts=3,
        parallelization_factor=4,
    )
    fn = function(memory_mb=2048, event_source_mappings=(mapping,), stats={})
    diagnosis = diagnose_alarm(fn, AlarmSignal(metric_names=("IteratorAge",)))
    assert [cause.summary for cause in diagnosis.causes] == [
        "Small batches: the clicks trigger hands 10 records to each invocation, so the function "
        "falls behind the stream."
    ]


def test_invocations_spike_compared_with_usual_traffic() -> None:
    fn = function(stats={"invocations": 14 * 86400})  # one a second on average
    signal = AlarmSignal(
        metric_names=("Invocations",), statistic="Sum", observed_value=600, period_s=60
    )
    (cause,) = diagnose_alarm(fn, signal).causes
    assert cause.summary == (
        "A traffic spike: 600 invocations in 60 s against a usual 60.0 (10.0×)."
    )


def test_unknown_metric_and_no_stats_say_so() -> None:
    diagnosis = diagnose_alarm(
        function(stats=None), AlarmSignal(metric_names=("ClaimedAccountConcurrency",))
    )
    assert diagnosis.causes == ()
    assert diagnosis.unknowns == (
        "No metrics or logs were read for this function.",
        "tunebot has no specific diagnosis for alarms on ClaimedAccountConcurrency.",
    )


def test_explain_cost_change_names_traffic_duration_and_deploy() -> None:
    start = datetime(2024, 2, 10, tzinfo=UTC)
    end = datetime(2024, 2, 12, tzinfo=UTC)
    reasons = explain_cost_change(
        UsageWindow(invocations=1000, duration_sum_ms=100_000),
        UsageWindow(invocations=3000, duration_sum_ms=900_000),
        memory_mb=1024,
        last_modified=datetime(2024, 2, 9, 15, 30, tzinfo=UTC),
        window_start=start,
        window_end=end,
    )
    assert reasons == (
        "traffic 3.0× (1,000 → 3,000 requests)",
        "average duration 3.0× (100 → 300 ms)",
        "deployed or reconfigured 2024-02-09 15:30 UTC (memory now 1024 MB)",
    )
    steady = explain_cost_change(
        UsageWindow(invocations=1000, duration_sum_ms=100_000),
        UsageWindow(invocations=1100, duration_sum_ms=110_000),
        memory_mb=1024,
        last_modified=datetime(2023, 1, 1, tzinfo=UTC),
        window_start=start,
        window_end=end,
    )
    assert steady == ()
    assert UsageWindow(duration_sum_ms=2_048_000).gb_seconds(512) == 1024.0


def test_describe_effect_of_a_memory_change() -> None:
    from recommendations.alerts import describe_effect

    text = describe_effect(
        UsageWindow(invocations=1000, duration_sum_ms=400_000),
        UsageWindow(invocations=1200, duration_sum_ms=300_000),
        memory_before_mb=512,
        memory_after_mb=1024,
    )
    assert text == ("average duration 400 → 250 ms, compute per invocation +25%, traffic 1.2×")
    assert describe_effect(UsageWindow(invocations=100), UsageWindow(invocations=3)) == (
        "too early to measure (too few invocations since)"
    )
    assert describe_effect(UsageWindow(invocations=0), UsageWindow(invocations=30)) == (
        "no baseline (too few invocations before)"
    )

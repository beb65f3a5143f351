"""LOG-001 (verbose logging), LOG-002 (logs that never expire), TRC-001 (X-Ray active tracing).

Worked by hand: 1,000,000 invocations a month of 100 ms at 1024 MB cost $1.67 of compute plus
$0.20 of requests ($1.87). 4,096 bytes logged per invocation are 4.096e9 bytes (3.81 GB of
2**30 bytes) a month: $1.91 at $0.50/GB. Lambda's own lines (350 bytes an invocation) aside,
91.5 % of that is the function's own logging ($1.74).
"""

from __future__ import annotations

from recommendations.changes import (
    LoggingSettings,
    LogLevelChange,
    LogRetentionChange,
    TracingChange,
)
from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Outcome
from recommendations.rules.logging import LogsNeverExpire, VerboseLogging
from recommendations.rules.tracing import ActiveTracingAtHighVolume, traces_recorded_per_month
from recommendations.snapshot import (
    LogFormat,
    LogGroupClass,
    LogGroupInfo,
    LogLevel,
    PackageType,
    TracingMode,
)
from tests.recommendations.builders import evidence_of, function, run, single, stats

GB = 1024**3
GROUP = "/aws/lambda/orders"


def busy(log_bytes: int | None = 4096 * 1_000_000, **fields: object):  # type: ignore[no-untyped-def]
    return stats(
        invocations=1_000_000, billed_duration_avg_ms=100, log_ingested_bytes=log_bytes, **fields
    )


def group(**fields: object) -> LogGroupInfo:
    return LogGroupInfo(name=GROUP, **fields)  # type: ignore[arg-type]


class TestVerboseLogging:
    rule = VerboseLogging()

    def test_text_format_gets_json_at_warn_and_a_medium_risk(self) -> None:
        fn = function(stats_=busy(), log_group_info=group(log_class=LogGroupClass.STANDARD))
        rec = single(run(self.rule, fn))
        assert rec.category is Category.LOGGING
        assert rec.title == "Log at WARN: $1.91 a month of log ingestion"
        assert rec.change == LogLevelChange(
            function_name="orders",
            before=LoggingSettings(),
            after=LoggingSettings(
                log_format=LogFormat.JSON,
                application_log_level=LogLevel.WARN,
                system_log_level=LogLevel.INFO,
            ),
        )
        assert (rec.monthly_savings_low_usd, rec.monthly_savings_usd) == (0.0, 0.87)
        assert rec.monthly_savings_high_usd == 1.74
        assert (rec.risk, rec.confidence, rec.severity) == (
            Risk.MEDIUM,
            Confidence.LOW,
            Severity.MEDIUM,
        )
        assert evidence_of(rec) == {
            "Log ingestion": 3.81,
            "Log ingestion cost": 1.91,
            "Lambda cost": 1.87,
            "Ingestion next to Lambda cost": 102.2,
            "Logged per invocation": 4096,
            "Log class": "STANDARD",
        }
        assert "every line becomes a JSON object" in rec.notes[0]
        assert rec.change.describe() == (
            "Set logging of orders from Text format to JSON format (application logs WARN, "
            "system logs INFO)"
        )

    def test_json_at_debug_goes_to_info_with_a_low_risk(self) -> None:
        fn = function(
            stats_=busy(),
            log_format=LogFormat.JSON,
            application_log_level=LogLevel.DEBUG,
            system_log_level=LogLevel.INFO,
        )
        rec = single(run(self.rule, fn))
        assert isinstance(rec.change, LogLevelChange)
        assert rec.change.after == LoggingSettings(
            log_format=LogFormat.JSON,
            application_log_level=LogLevel.INFO,
            system_log_level=LogLevel.INFO,
        )
        assert rec.risk is Risk.LOW
        assert rec.title == "Log at INFO: $1.91 a month of log ingestion"
        # Unknown class: priced as Standard, and said so.
        assert evidence_of(rec)["Log class"] == "unknown (priced as STANDARD)"

    def test_runtime_without_level_filtering_gets_infrequent_access_advice(self) -> None:
        for fn in (
            function(runtime="provided.al2023", stats_=busy()),
            function(runtime=None, package_type=PackageType.IMAGE, stats_=busy()),
            function(runtime="java8", stats_=busy()),
            function(runtime="nodejs14.x", stats_=busy()),
        ):
            rec = single(run(self.rule, fn))
            assert rec.change is None, fn.runtime
            assert rec.title == "Log less, or to Infrequent Access: $1.91 a month of logs"
            assert rec.monthly_savings_usd == 0.95
            assert "class is fixed when it is created" in rec.notes[0]

    def test_already_quiet_in_infrequent_access_is_advice_without_saving(self) -> None:
        fn = function(
            stats_=busy(log_bytes=8192 * 1_000_000),
            log_format=LogFormat.JSON,
            application_log_level=LogLevel.ERROR,
            log_group_info=group(log_class=LogGroupClass.INFREQUENT_ACCESS),
        )
        rec = single(run(self.rule, fn))
        # $0.25/GB: 7.63 GB cost $1.91, above half of the $1.87 Lambda cost.
        assert rec.title == "Log less: $1.91 a month of log ingestion"
        assert (rec.change, rec.monthly_savings_usd) == (None, None)
        assert "even at the ERROR level" in rec.rationale

    def test_lambdas_own_lines_are_not_cut_by_a_log_level(self) -> None:
        # 300 bytes an invocation: START/END/REPORT only. Cheap compute makes it stand out.
        fn = function(
            memory_mb=128,
            stats_=stats(
                invocations=10_000_000, billed_duration_avg_ms=2, log_ingested_bytes=3_000_000_000
            ),
        )
        rec = single(run(self.rule, fn))
        assert rec.change is None
        assert "Lambda's own START, END and REPORT lines" in rec.rationale

    def test_passes_when_logs_are_cheap_next_to_compute(self) -> None:
        fn = function(stats_=busy(log_bytes=500 * 1_000_000))
        result = run(self.rule, fn)
        assert (result.outcome, result.reason) == (
            Outcome.PASS,
            "log ingestion $0.23 a month next to $1.87 of Lambda",
        )

    def test_missing_data_is_unknown(self) -> None:
        assert run(self.rule, function()).reason == "no statistics were collected"
        result = run(self.rule, function(stats_=busy(log_bytes=None)))
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "the log group's ingested bytes (IncomingBytes) are unknown",
        )
        shared = function(stats_=busy(), log_group_info=group(shared_with=("billing",)))
        assert run(self.rule, shared).reason == (
            f"the log group {GROUP} is shared with billing: its ingestion cannot be split "
            "between the functions"
        )
        no_cost = function(stats_=stats(invocations=5, log_ingested_bytes=10 * GB))
        assert run(self.rule, no_cost).reason == "the function's Lambda cost is unknown"

    def test_idle_function_passes(self) -> None:
        result = run(self.rule, function(stats_=stats(invocations=0)))
        assert (result.outcome, result.reason) == (Outcome.PASS, "no invocations in the window")


class TestLogsNeverExpire:
    rule = LogsNeverExpire()

    def test_proposes_30_days_with_the_storage_it_frees(self) -> None:
        # 100 GB stored; 10 GB ingested a month keeps about 9.86 GB under 30 days.
        fn = function(
            stats_=stats(log_ingested_bytes=10 * GB), log_group_info=group(stored_bytes=100 * GB)
        )
        rec = single(run(self.rule, fn))
        assert rec.change == LogRetentionChange(
            function_name="orders", log_group=GROUP, before=None, after=30
        )
        assert rec.monthly_savings_usd == 2.7
        assert evidence_of(rec) == {
            "Retention": "never expire",
            "Stored": 100.0,
            "Storage cost": 3.0,
        }
        assert (rec.risk, rec.confidence) == (Risk.MEDIUM, Confidence.HIGH)
        assert rec.change.inverse().after is None
        assert rec.change.describe() == (
            f"Set retention of the log group {GROUP} (orders) from never expire to 30 days"
        )

    def test_unknown_volume_gives_no_saving_and_says_so(self) -> None:
        rec = single(run(self.rule, function(log_group_info=group())))
        assert rec.monthly_savings_usd is None
        assert (
            rec.notes[-1]
            == "The stored volume or the ingestion is unknown: no saving is estimated."
        )

    def test_shared_group_is_proposed_once(self) -> None:
        first = function(name="alpha", log_group_info=group(shared_with=("orders",)))
        second = function(name="orders", log_group_info=group(shared_with=("alpha",)))
        assert single(run(self.rule, first)).notes[-2].startswith("The group is shared with orders")
        result = run(self.rule, second)
        assert (result.outcome, result.reason) == (
            Outcome.NOT_APPLICABLE,
            f"{GROUP} is shared: proposed on alpha",
        )

    def test_passes_with_a_retention(self) -> None:
        result = run(self.rule, function(log_group_info=group(retention_days=14)))
        assert (result.outcome, result.reason) == (Outcome.PASS, f"{GROUP} keeps events 14 days")

    def test_unread_group_is_unknown(self) -> None:
        result = run(self.rule, function())
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "the log group was not read (or does not exist yet)",
        )


class TestActiveTracing:
    rule = ActiveTracingAtHighVolume()

    def test_default_sampling_estimate(self) -> None:
        # 2,628,000 seconds a month: one a second, then 5 % of the rest.
        assert traces_recorded_per_month(1_000_000) == 1_000_000
        assert traces_recorded_per_month(10_000_000) == 2_628_000 + 0.05 * 7_372_000

    def test_busy_function_gets_pass_through(self) -> None:
        fn = function(tracing_mode=TracingMode.ACTIVE, stats_=stats(invocations=10_000_000))
        rec = single(run(self.rule, fn))
        assert rec.category is Category.TRACING
        assert rec.change == TracingChange(
            function_name="orders", before=TracingMode.ACTIVE, after=TracingMode.PASS_THROUGH
        )
        assert rec.title == "Turn off active tracing: ~$14.98 a month of traces"
        # Low: 5 % of invocations less the free 100,000; high: every invocation traced.
        assert (
            rec.monthly_savings_low_usd,
            rec.monthly_savings_usd,
            rec.monthly_savings_high_usd,
        ) == (2.0, 14.98, 50.0)
        assert evidence_of(rec)["Traces recorded (estimate)"] == 2_996_600
        assert "cannot be configured" in rec.notes[1]
        assert rec.change.describe() == "Set X-Ray tracing of orders from Active to PassThrough"

    def test_quiet_function_and_pass_through_pass(self) -> None:
        quiet = function(tracing_mode=TracingMode.ACTIVE, stats_=stats(invocations=150_000))
        assert run(self.rule, quiet).reason == "about 150,000 traces a month ($0.75)"
        off = function(tracing_mode=TracingMode.PASS_THROUGH, stats_=stats(invocations=10**8))
        assert run(self.rule, off).outcome is Outcome.PASS

    def test_missing_data_is_unknown(self) -> None:
        assert run(self.rule, function(stats_=stats(invocations=10**8))).reason == (
            "the tracing mode is unknown"
        )
        result = run(self.rule, function(tracing_mode=TracingMode.ACTIVE, stats_=stats()))
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "the number of invocations is unknown",
        )

"""The FilterLogEvents fallback and figures over parsed REPORT records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.stub import Stubber
from moto import mock_aws

from aws.logs.report_parser import parse_report_log
from aws.logs.sampling import FILTER_PATTERN, sample_log_group
from aws.logs.stats import LogStats, nearest_rank_percentile, stats_from_records
from aws.session import AwsSession
from fakes.scan_seed import report_line, write_log_lines
from recommendations.snapshot import ErrorTypeCount

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_stats_from_records() -> None:
    records = parse_report_log(
        "\n".join(
            [
                report_line("a", 100, 50, 256, init=300.0),
                report_line("b", 200, 70, 256),
                report_line("c", 300, 256, 256),
                "REPORT RequestId: d Duration: 9.0 ms Billed Duration: 400 ms Memory Size: 256 MB "
                "Max Memory Used: 60 MB Restore Duration: 120.0 ms Billed Restore Duration: 80 ms",
            ]
        )
    )
    assert stats_from_records(records) == LogStats(
        sample_size=4,
        billed_duration_avg_ms=250.0,
        max_memory_used_mb=256,
        memory_used_p99_mb=256,
        cold_starts=2,
        init_duration_avg_ms=300.0,
        init_duration_max_ms=300.0,
        restore_duration_avg_ms=120.0,
        timeouts=0,
        out_of_memory=1,
        # Handler durations 99.5, 199.5, 299.5 and 9.0 ms (nearest rank).
        duration_p50_ms=99.5,
        duration_p90_ms=299.5,
        duration_p99_ms=299.5,
    )
    assert stats_from_records([]) == LogStats(sample_size=0)


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert nearest_rank_percentile(values, 99) == 99.0
    assert nearest_rank_percentile(values, 50) == 50.0
    assert nearest_rank_percentile([], 99) is None


@mock_aws
def test_sample_from_moto_logs() -> None:
    session = AwsSession(region="us-east-1")
    write_log_lines(
        session.client("logs"),
        "orders",
        [
            "START RequestId: r1 Version: $LATEST",
            report_line("r1", 120, 200, 1024, init=310.0),
            "some application output",
            report_line("r2", 80, 180, 1024),
        ],
        END - timedelta(hours=1),
    )
    stats = sample_log_group(session, "/aws/lambda/orders", start=END - timedelta(days=14), end=END)
    assert stats == LogStats(
        sample_size=2,
        billed_duration_avg_ms=100.0,
        max_memory_used_mb=200,
        memory_used_p99_mb=200,
        cold_starts=1,
        init_duration_avg_ms=310.0,
        init_duration_max_ms=310.0,
        timeouts=0,
        out_of_memory=0,
        duration_p50_ms=79.5,
        duration_p90_ms=119.5,
        duration_p99_ms=119.5,
        top_error_types=(),
    )
    assert (
        sample_log_group(session, "/aws/lambda/none", start=END - timedelta(days=1), end=END)
        is None
    )


@mock_aws
def test_sample_counts_error_types_from_the_same_read() -> None:
    """The error lines come back with the REPORT lines (the filter pattern asks for both, and
    moto applies it as AWS does for quoted terms): each type is counted once per line."""
    session = AwsSession(region="us-east-1")
    write_log_lines(
        session.client("logs"),
        "orders",
        [
            "[ERROR] KeyError: 'sku'\nTraceback (most recent call last):",
            report_line("r1", 120, 200, 1024),
            "[ERROR] ClientError: An error occurred (ThrottlingException) when calling the "
            "PutItem operation (reached max retries: 4): Rate exceeded",
            report_line("r2", 80, 180, 1024),
            '2026-11-26T11:00:00.000Z\tr3\tERROR\tInvoke Error \t{"errorType":'
            '"ThrottlingException","errorMessage":"Rate exceeded"}',
            "r4 Task timed out after 3.00 seconds",
            "an INFO line that is not read",
        ],
        END - timedelta(hours=1),
    )
    stats = sample_log_group(session, "/aws/lambda/orders", start=END - timedelta(days=14), end=END)
    assert stats is not None
    assert stats.sample_size == 2
    assert stats.top_error_types == (
        ErrorTypeCount(name="ThrottlingException", count=2),
        ErrorTypeCount(name="KeyError", count=1),
        ErrorTypeCount(name="Task timed out", count=1),
    )


def test_sample_is_bounded_by_pages_and_events() -> None:
    session = AwsSession(region="us-east-1")
    start = END - timedelta(days=1)
    base = {
        "logGroupName": "/aws/lambda/busy",
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(END.timestamp() * 1000),
        "filterPattern": FILTER_PATTERN,
    }
    page = {
        "events": [{"message": report_line(f"r{i}", 10, 20, 128)} for i in range(3)],
        "nextToken": "more",
    }
    with Stubber(session.client("logs")) as stub:
        stub.add_response("filter_log_events", page, {**base, "limit": 5})
        stub.add_response("filter_log_events", page, {**base, "limit": 2, "nextToken": "more"})
        stats = sample_log_group(
            session, "/aws/lambda/busy", start=END - timedelta(days=14), end=END, max_events=5
        )
        stub.assert_no_pending_responses()
    assert stats is not None and stats.sample_size == 5

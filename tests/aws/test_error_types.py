"""Error types from log lines: the line parser, the Logs Insights query's rows (botocore
Stubber, responses shaped as GetQueryResults documents them) and how the scan adds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from aws.logs.error_types import ERROR_TYPES_QUERY, error_types_runner, parse_error_type_rows
from aws.logs.report_parser import count_error_types, error_type_of_line
from aws.logs.stats import LogStats
from aws.metrics import MetricsResult
from aws.scan import ScanOptions, _add_error_types, _Collected
from aws.session import AwsSession
from recommendations.snapshot import ErrorTypeCount

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
START = END - timedelta(days=14)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[ERROR] KeyError: 'sku'\nTraceback (most recent call last):", "KeyError"),
        (
            "[ERROR] ClientError: An error occurred (ThrottlingException) when calling the "
            "PutItem operation (reached max retries: 4): Rate exceeded",
            "ThrottlingException",
        ),
        (
            "[ERROR] ProvisionedThroughputExceededException: An error occurred "
            "(ProvisionedThroughputExceededException) when calling the PutRecord operation",
            "ProvisionedThroughputExceededException",
        ),
        (
            '2026-11-26T11:00:00.000Z\tr3\tERROR\tInvoke Error \t{"errorType":"TypeError",'
            '"errorMessage":"x is undefined"}',
            "TypeError",
        ),
        (
            '{"errorType":"AxiosError","errorMessage":"Request failed with status code 429"}',
            "HTTP 429",
        ),
        ("[ERROR] HTTPError: 429 Client Error: Too Many Requests for url: https://x", "HTTP 429"),
        ("r4 Task timed out after 3.00 seconds", "Task timed out"),
        ("WARN retrying: Rate exceeded", "Rate exceeded"),
        # A logger.error call, not an exception: no type to name.
        ("[ERROR]\t2026-11-26T11:00:00.000Z\tr5\tpayment declined", None),
        # Lambda's own JSON record repeats the function's error: not counted again.
        ('{"type":"platform.runtimeDone","record":{"status":"error","errorType":"X"}}', None),
        ("REPORT RequestId: r6\tDuration: 429.10 ms\tBilled Duration: 430 ms", None),
    ],
)
def test_error_type_of_line(line: str, expected: str | None) -> None:
    assert error_type_of_line(line) == expected


def test_count_error_types() -> None:
    lines = ["[ERROR] KeyError: 'a'", "[ERROR] KeyError: 'b'", "hello", "Task timed out after 3"]
    assert count_error_types(lines) == {"KeyError": 2, "Task timed out": 1}


def _row(group: str, name: str, count: str) -> list[dict[str, str]]:
    return [
        {"field": "@log", "value": f"123456789012:{group}"},
        {"field": "errorType", "value": name},
        {"field": "errorLines", "value": count},
    ]


def test_parse_rows_by_group_with_http_429_spellings_merged() -> None:
    rows = [
        _row("/aws/lambda/orders", "ThrottlingException", "40"),
        _row("/aws/lambda/orders", "Too Many Requests", "3"),
        _row("/aws/lambda/orders", "429 Client Error", "2"),
        _row("/aws/lambda/billing", "KeyError", "7"),
    ]
    assert parse_error_type_rows(rows) == {
        "/aws/lambda/orders": {"ThrottlingException": 40, "HTTP 429": 5},
        "/aws/lambda/billing": {"KeyError": 7},
    }
    # Raw events (an emulator that ignores stats) are not this query's rows.
    assert parse_error_type_rows([[{"field": "@message", "value": "x"}]]) is None
    assert parse_error_type_rows([]) == {}


def _stub_query(stub: Stubber, groups: list[str], rows: list[Any]) -> None:
    stub.add_response(
        "start_query",
        {"queryId": "q-errors"},
        {
            "logGroupNames": groups,
            "startTime": int(START.timestamp()),
            "endTime": int(END.timestamp()),
            "queryString": ERROR_TYPES_QUERY,
        },
    )
    stub.add_response(
        "get_query_results",
        {"results": rows, "status": "Complete"},
        {"queryId": ANY},
    )


def test_scan_reads_error_types_only_where_invocations_failed() -> None:
    session = AwsSession(region="us-east-1")
    owner = {"/aws/lambda/orders": "orders", "/aws/lambda/quiet": "quiet"}
    stats = {"orders": LogStats(sample_size=500), "quiet": LogStats(sample_size=300)}
    figures = MetricsResult(figures={"orders": {"errors": 12.0}, "quiet": {"errors": 0.0}})
    with Stubber(session.client("logs")) as stub:
        _stub_query(stub, ["/aws/lambda/orders"], [_row("/aws/lambda/orders", "KeyError", "9")])
        _add_error_types(
            session,
            _Collected(configs=[]),
            figures,
            ScanOptions(function_names=("orders", "quiet"), insights_poll_interval_s=0.0),
            owner,
            stats,
            START,
            END,
        )
        stub.assert_no_pending_responses()
    assert stats["orders"].top_error_types == (ErrorTypeCount(name="KeyError", count=9),)
    assert stats["quiet"].top_error_types is None  # not read: nothing failed


def test_a_group_without_error_lines_has_none_found() -> None:
    session = AwsSession(region="us-east-1")
    stats = {"orders": LogStats(sample_size=500)}
    figures = MetricsResult(figures={"orders": {"errors": 3.0}})
    with Stubber(session.client("logs")) as stub:
        _stub_query(stub, ["/aws/lambda/orders"], [])
        _add_error_types(
            session,
            _Collected(configs=[]),
            figures,
            ScanOptions(function_names=("orders",), insights_poll_interval_s=0.0),
            {"/aws/lambda/orders": "orders"},
            stats,
            START,
            END,
        )
    assert stats["orders"].top_error_types == ()


def test_only_the_fifty_functions_with_most_errors_are_read() -> None:
    """One batch whatever the fleet's size; the rest keep their error types unknown."""
    session = AwsSession(region="us-east-1")
    names = [f"fn-{i:02d}" for i in range(60)]
    owner = {f"/aws/lambda/{name}": name for name in names}
    stats = {name: LogStats(sample_size=100) for name in names}
    # fn-00 has 1 error, fn-59 has 60: the ten with fewest are left out.
    figures = MetricsResult(
        figures={name: {"errors": float(i + 1)} for i, name in enumerate(names)}
    )
    kept = sorted(names[10:], key=lambda name: -int(name[3:]))
    with Stubber(session.client("logs")) as stub:
        _stub_query(stub, [f"/aws/lambda/{name}" for name in kept], [])
        _add_error_types(
            session,
            _Collected(configs=[]),
            figures,
            ScanOptions(insights_poll_interval_s=0.0),
            owner,
            stats,
            START,
            END,
        )
        stub.assert_no_pending_responses()
    assert stats["fn-59"].top_error_types == ()
    assert stats["fn-09"].top_error_types is None


def test_runner_runs_the_error_query_through_source_for_many_groups() -> None:
    session = AwsSession(region="us-east-1")
    runner = error_types_runner(session, poll_interval_s=0.0, sleep=lambda _: None)
    groups = [f"/aws/lambda/fn-{i:02d}" for i in range(60)]
    with Stubber(session.client("logs")) as stub:
        stub.add_response(
            "start_query",
            {"queryId": "q-source"},
            {
                "startTime": ANY,
                "endTime": ANY,
                "queryString": "SOURCE logGroups(namePrefix: ['/aws/lambda/'])\n| "
                + ERROR_TYPES_QUERY,
            },
        )
        stub.add_response(
            "get_query_results",
            {
                "results": [_row("/aws/lambda/fn-07", "ThrottlingException", "15")],
                "status": "Complete",
            },
            {"queryId": "q-source"},
        )
        found = runner.run(groups, START, END, source_prefix="/aws/lambda/")
        stub.assert_no_pending_responses()
    assert found.stats == {"/aws/lambda/fn-07": {"ThrottlingException": 15}}
    assert not found.failed

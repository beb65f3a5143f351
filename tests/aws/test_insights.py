"""Logs Insights REPORT statistics against botocore Stubber responses shaped like real ones.

moto has no Logs Insights (no StartQuery/GetQueryResults, no IAM evaluation), so every test
here drives botocore's Stubber with responses and errors shaped as AWS documents them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.stub import ANY, Stubber

from aws.logs.insights import (
    MAX_LOG_GROUPS_PER_QUERY,
    REPORT_STATS_QUERY,
    InsightsRunner,
    denied_log_group,
    log_group_from_field,
    parse_results,
    source_query,
)
from aws.logs.stats import LogStats
from aws.session import AwsSession

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
START = END - timedelta(days=14)


def _row(group: str, **values: str) -> list[dict[str, str]]:
    return [{"field": "@log", "value": f"123456789012:{group}"}] + [
        {"field": key, "value": value} for key, value in values.items()
    ]


ORDERS_ROW = _row(
    "/aws/lambda/orders",
    sampleSize="1520",
    billedAvgMs="212.4",
    usedMaxMb="301",
    usedP99Mb="287.6",
    initCount="37",
    initAvgMs="412.25",
    initMaxMs="980.1",
    restoreCount="0",
    statusTimeouts="3",
    jsonTimeouts="0",
    timeoutLines="3",
    outOfMemory="1",
    durationP50Ms="180.5",
    durationP90Ms="240.25",
    durationP99Ms="612",
)
# A JSON-format SnapStart function: restores but no init, timeouts only from the JSON status.
PAYMENTS_ROW = _row(
    "/aws/lambda/payments",
    sampleSize="88",
    billedAvgMs="51",
    usedMaxMb="190",
    usedP99Mb="185",
    initCount="0",
    restoreCount="4",
    restoreAvgMs="350.5",
    statusTimeouts="0",
    jsonTimeouts="2",
    timeoutLines="0",
    outOfMemory="0",
)


def _complete(rows: list[list[dict[str, str]]]) -> dict[str, Any]:
    return {
        "results": rows,
        "statistics": {"recordsMatched": 1608.0, "recordsScanned": 52000.0, "bytesScanned": 9.1e6},
        "status": "Complete",
    }


def _runner(session: AwsSession, *, max_wait_s: float = 60.0) -> tuple[InsightsRunner, list[float]]:
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    runner = InsightsRunner(
        session, max_wait_s=max_wait_s, poll_interval_s=2.0, sleep=sleep, clock=lambda: now[0]
    )
    return runner, slept


def _start_params(groups: list[str]) -> dict[str, Any]:
    return {
        "logGroupNames": groups,
        "startTime": int(START.timestamp()),
        "endTime": int(END.timestamp()),
        "queryString": REPORT_STATS_QUERY,
    }


def test_parse_results_both_formats() -> None:
    parsed = parse_results([ORDERS_ROW, PAYMENTS_ROW])
    assert parsed == {
        "/aws/lambda/orders": LogStats(
            sample_size=1520,
            billed_duration_avg_ms=212.4,
            max_memory_used_mb=301,
            memory_used_p99_mb=288,
            cold_starts=37,
            init_duration_avg_ms=412.25,
            init_duration_max_ms=980.1,
            timeouts=3,
            out_of_memory=1,
            duration_p50_ms=180.5,
            duration_p90_ms=240.25,
            duration_p99_ms=612.0,
        ),
        "/aws/lambda/payments": LogStats(
            sample_size=88,
            billed_duration_avg_ms=51.0,
            max_memory_used_mb=190,
            memory_used_p99_mb=185,
            cold_starts=4,
            restore_duration_avg_ms=350.5,
            timeouts=2,
            out_of_memory=0,
        ),
    }


def test_rows_that_are_not_stats_mean_unsupported() -> None:
    assert parse_results([[{"field": "@ptr", "value": "abc"}]]) is None
    assert parse_results([]) == {}


def test_log_group_field_keeps_colons_in_names() -> None:
    assert log_group_from_field("123456789012:/aws/lambda/a") == "/aws/lambda/a"
    assert log_group_from_field("/custom:group") == "/custom:group"


def test_query_reads_text_and_json_records() -> None:
    for needle in (
        '@type = "REPORT"',
        'type = "platform.report"',
        "record.metrics.billedDurationMs",
        "@maxMemoryUsed / 1000000",
        "Restore Duration",
        "Task timed out after",
        "coalesce(@duration, record.metrics.durationMs) as durationMs",
        "pct(durationMs, 50) as durationP50Ms",
        "pct(durationMs, 90) as durationP90Ms",
        "pct(durationMs, 99) as durationP99Ms",
        "by @log",
    ):
        assert needle in REPORT_STATS_QUERY


def test_polls_until_complete() -> None:
    session = AwsSession(region="us-east-1")
    runner, slept = _runner(session)
    groups = ["/aws/lambda/orders", "/aws/lambda/payments"]
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(groups))
        stub.add_response(
            "get_query_results", {"results": [], "status": "Running"}, {"queryId": "q-1"}
        )
        stub.add_response(
            "get_query_results", _complete([ORDERS_ROW, PAYMENTS_ROW]), {"queryId": "q-1"}
        )
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert not result.unavailable
    assert set(result.stats) == set(groups)
    assert result.stats["/aws/lambda/orders"].sample_size == 1520
    assert slept == [2.0, 3.0]


def test_batches_of_fifty_groups() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(120)]
    batches = [groups[:50], groups[50:100], groups[100:]]
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-0"}, _start_params(batches[0]))
        stub.add_response("get_query_results", _complete([]), {"queryId": "q-0"})
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(batches[1]))
        stub.add_response("start_query", {"queryId": "q-2"}, _start_params(batches[2]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[60], sampleSize="5")]), {"queryId": "q-1"}
        )
        stub.add_response(
            "get_query_results", {"results": [], "status": "Scheduled"}, {"queryId": "q-2"}
        )
        stub.add_response(
            "get_query_results", _complete([_row(groups[110], sampleSize="7")]), {"queryId": "q-2"}
        )
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert MAX_LOG_GROUPS_PER_QUERY == 50
    assert {group: stats.sample_size for group, stats in result.stats.items()} == {
        groups[60]: 5,
        groups[110]: 7,
    }


def test_emulator_without_stats_is_unavailable_after_one_query() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(60)]
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-0"}, _start_params(groups[:50]))
        stub.add_response(
            "get_query_results",
            {"results": [[{"field": "@ptr", "value": "CmAKJwoj"}]], "status": "Complete"},
            {"queryId": "q-0"},
        )
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert result.unavailable


def test_access_denied_is_unavailable() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    with Stubber(session.client("logs")) as stub:
        stub.add_client_error(
            "start_query",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: logs:StartQuery",
            http_status_code=400,
            expected_params=_start_params(["/aws/lambda/a"]),
        )
        result = runner.run(["/aws/lambda/a"], START, END)
    assert result.unavailable
    assert result.warnings == [
        "Access denied: the credentials may not run a Logs Insights query "
        "(not authorized to perform: logs:StartQuery)."
    ]


def test_missing_log_group_splits_the_batch() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = ["/aws/lambda/a", "/aws/lambda/gone", "/aws/lambda/c"]
    with Stubber(session.client("logs")) as stub:
        stub.add_client_error(
            "start_query",
            service_error_code="ResourceNotFoundException",
            service_message="Log group does not exist",
            expected_params=_start_params(groups),
        )
        stub.add_response("start_query", {"queryId": "q-a"}, _start_params(["/aws/lambda/a"]))
        stub.add_client_error(
            "start_query",
            service_error_code="ResourceNotFoundException",
            expected_params=_start_params(groups[1:]),
        )
        stub.add_client_error(
            "start_query",
            service_error_code="ResourceNotFoundException",
            expected_params=_start_params(["/aws/lambda/gone"]),
        )
        stub.add_response("start_query", {"queryId": "q-c"}, _start_params(["/aws/lambda/c"]))
        stub.add_response(
            "get_query_results",
            _complete([_row("/aws/lambda/a", sampleSize="3")]),
            {"queryId": "q-a"},
        )
        stub.add_response(
            "get_query_results",
            _complete([_row("/aws/lambda/c", sampleSize="4")]),
            {"queryId": "q-c"},
        )
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert {g: s.sample_size for g, s in result.stats.items()} == {
        "/aws/lambda/a": 3,
        "/aws/lambda/c": 4,
    }
    assert not result.unavailable


def test_bounded_wait_stops_the_query() -> None:
    session = AwsSession(region="us-east-1")
    runner, slept = _runner(session, max_wait_s=5.0)
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(["/aws/lambda/a"]))
        for _ in range(2):
            stub.add_response(
                "get_query_results", {"results": [], "status": "Running"}, {"queryId": "q-1"}
            )
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-1"})
        result = runner.run(["/aws/lambda/a"], START, END)
        stub.assert_no_pending_responses()
    assert result.failed == {"/aws/lambda/a"}
    assert result.stats == {}
    assert slept == [2.0, 3.0]
    assert result.warnings == [
        "1 Logs Insights queries did not finish within 5 s; their log figures are unknown."
    ]


def test_failed_query_leaves_groups_unknown_and_continues() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(["/aws/lambda/a"]))
        stub.add_response(
            "get_query_results", {"results": [], "status": "Failed"}, {"queryId": ANY}
        )
        result = runner.run(["/aws/lambda/a"], START, END)
    assert result.failed == {"/aws/lambda/a"}
    assert not result.unavailable


def test_concurrent_query_limit_waits_for_a_slot() -> None:
    session = AwsSession(region="us-east-1")
    runner, slept = _runner(session)
    with Stubber(session.client("logs")) as stub:
        stub.add_client_error(
            "start_query",
            service_error_code="LimitExceededException",
            service_message="Account maximum query concurrency limit of [30] reached.",
            expected_params=_start_params(["/aws/lambda/a"]),
        )
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(["/aws/lambda/a"]))
        stub.add_response(
            "get_query_results",
            _complete([_row("/aws/lambda/a", sampleSize="9")]),
            {"queryId": "q-1"},
        )
        result = runner.run(["/aws/lambda/a"], START, END)
        stub.assert_no_pending_responses()
    assert result.stats["/aws/lambda/a"].sample_size == 9
    assert slept == [2.0, 3.0]
    assert result.failed == set()


def _source_params(prefix: str = "/aws/lambda/") -> dict[str, Any]:
    return {
        "startTime": int(START.timestamp()),
        "endTime": int(END.timestamp()),
        "queryString": source_query(prefix),
    }


def test_many_default_groups_take_one_source_query() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    lambda_groups = [f"/aws/lambda/fn-{i:03d}" for i in range(60)]
    custom = ["/shop/shared-logs"]
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-src"}, _source_params())
        stub.add_response(
            "get_query_results",
            _complete(
                [
                    _row(lambda_groups[0], sampleSize="11"),
                    _row(lambda_groups[59], sampleSize="12"),
                    _row("/aws/lambda/not-in-this-scan", sampleSize="13"),
                ]
            ),
            {"queryId": "q-src"},
        )
        stub.add_response("start_query", {"queryId": "q-custom"}, _start_params(custom))
        stub.add_response(
            "get_query_results",
            _complete([_row(custom[0], sampleSize="14")]),
            {"queryId": "q-custom"},
        )
        result = runner.run([*lambda_groups, *custom], START, END, source_prefix="/aws/lambda/")
        stub.assert_no_pending_responses()
    assert result.stats[lambda_groups[0]].sample_size == 11
    assert result.stats[lambda_groups[59]].sample_size == 12
    assert result.stats[custom[0]].sample_size == 14
    assert result.failed == set()
    assert source_query("/aws/lambda/").startswith(
        "SOURCE logGroups(namePrefix: ['/aws/lambda/'])\n| filter "
    )


def test_source_query_refused_falls_back_to_batches() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(60)]
    with Stubber(session.client("logs")) as stub:
        stub.add_client_error(
            "start_query",
            service_error_code="InvalidParameterException",
            service_message="The query selects more than 10000 log groups.",
            expected_params=_source_params(),
        )
        stub.add_response("start_query", {"queryId": "q-0"}, _start_params(groups[:50]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[1], sampleSize="2")]), {"queryId": "q-0"}
        )
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(groups[50:]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[55], sampleSize="3")]), {"queryId": "q-1"}
        )
        result = runner.run(groups, START, END, source_prefix="/aws/lambda/")
        stub.assert_no_pending_responses()
    assert {g: s.sample_size for g, s in result.stats.items()} == {groups[1]: 2, groups[55]: 3}
    assert result.failed == set()


def test_source_query_that_times_out_is_not_run_again() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session, max_wait_s=4.0)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(60)]
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-src"}, _source_params())
        stub.add_response(
            "get_query_results", {"results": [], "status": "Running"}, {"queryId": "q-src"}
        )
        stub.add_response(
            "get_query_results", {"results": [], "status": "Running"}, {"queryId": "q-src"}
        )
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-src"})
        result = runner.run(groups, START, END, source_prefix="/aws/lambda/")
        stub.assert_no_pending_responses()
    assert result.failed == set(groups)
    assert result.timed_out == set(groups)
    assert result.stats == {}


def _denied_message(group: str) -> str:
    """The message IAM gives for a StartQuery the role's policy does not cover."""
    return (
        "User: arn:aws:sts::123456789012:assumed-role/tunebot-scan/tunebot is not authorized "
        "to perform: logs:StartQuery on resource: "
        f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:* because no identity-based "
        "policy allows the logs:StartQuery action"
    )


def _deny(stub: Stubber, groups: list[str], named: str | None) -> None:
    stub.add_client_error(
        "start_query",
        service_error_code="AccessDeniedException",
        service_message=_denied_message(named) if named else "Access denied",
        http_status_code=400,
        expected_params=_start_params(groups),
    )


def test_denied_log_group_is_read_from_the_message() -> None:
    groups = ["/aws/lambda/a", "/shop/orders:prod"]
    assert denied_log_group(_denied_message("/shop/orders:prod"), groups) == "/shop/orders:prod"
    assert denied_log_group(_denied_message("/elsewhere"), groups) is None
    assert denied_log_group("Access denied", groups) is None


def test_a_denied_custom_log_group_costs_only_that_group() -> None:
    """A function logging to a LoggingConfig.LogGroup outside the grant: before, the whole
    scan lost Insights (and fell back to sampling 25 functions)."""
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = ["/aws/lambda/a", "/aws/lambda/b", "/shop/orders"]
    with Stubber(session.client("logs")) as stub:
        _deny(stub, groups, "/shop/orders")
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(groups[:2]))
        stub.add_response(
            "get_query_results",
            _complete([_row(groups[0], sampleSize="5"), _row(groups[1], sampleSize="6")]),
            {"queryId": "q-1"},
        )
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert not result.unavailable
    assert {g: s.sample_size for g, s in result.stats.items()} == {groups[0]: 5, groups[1]: 6}
    assert result.failed == {"/shop/orders"}
    assert set(result.denied) == {"/shop/orders"}
    assert result.denied["/shop/orders"].startswith(
        "Access denied: the credentials may not run a Logs Insights query"
    )


def test_a_denial_that_names_no_group_halves_the_batch() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = ["/aws/lambda/a", "/aws/lambda/b", "/custom/c", "/custom/d"]
    with Stubber(session.client("logs")) as stub:
        _deny(stub, groups, None)
        stub.add_response("start_query", {"queryId": "q-ab"}, _start_params(groups[:2]))
        _deny(stub, groups[2:], None)
        _deny(stub, ["/custom/c"], None)
        stub.add_response("start_query", {"queryId": "q-d"}, _start_params(["/custom/d"]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[0], sampleSize="1")]), {"queryId": "q-ab"}
        )
        stub.add_response(
            "get_query_results", _complete([_row(groups[3], sampleSize="2")]), {"queryId": "q-d"}
        )
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert not result.unavailable
    assert {g: s.sample_size for g, s in result.stats.items()} == {groups[0]: 1, groups[3]: 2}
    assert set(result.denied) == {"/custom/c"}


def test_a_denial_in_a_later_batch_keeps_what_was_read() -> None:
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(50)] + ["/custom/x"]
    with Stubber(session.client("logs")) as stub:
        stub.add_response("start_query", {"queryId": "q-0"}, _start_params(groups[:50]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[7], sampleSize="7")]), {"queryId": "q-0"}
        )
        _deny(stub, ["/custom/x"], "/custom/x")
        result = runner.run(groups, START, END)
        stub.assert_no_pending_responses()
    assert not result.unavailable
    assert result.stats[groups[7]].sample_size == 7
    assert set(result.denied) == {"/custom/x"}


def test_a_denied_source_query_falls_back_to_batches_of_fifty() -> None:
    """SOURCE logGroups(namePrefix: ...) needs StartQuery on every group it may select; a role
    granted less is refused, and the groups are then read by name, 50 at a time."""
    session = AwsSession(region="us-east-1")
    runner, _ = _runner(session)
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(60)]
    with Stubber(session.client("logs")) as stub:
        stub.add_client_error(
            "start_query",
            service_error_code="AccessDeniedException",
            service_message=_denied_message("*"),
            http_status_code=400,
            expected_params=_source_params(),
        )
        stub.add_response("start_query", {"queryId": "q-0"}, _start_params(groups[:50]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[1], sampleSize="2")]), {"queryId": "q-0"}
        )
        stub.add_response("start_query", {"queryId": "q-1"}, _start_params(groups[50:]))
        stub.add_response(
            "get_query_results", _complete([_row(groups[55], sampleSize="3")]), {"queryId": "q-1"}
        )
        result = runner.run(groups, START, END, source_prefix="/aws/lambda/")
        stub.assert_no_pending_responses()
    assert not result.unavailable
    assert {g: s.sample_size for g, s in result.stats.items()} == {groups[1]: 2, groups[55]: 3}
    assert result.failed == set()
    assert result.denied == {}

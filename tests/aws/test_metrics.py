"""CloudWatch figures: batching 500 queries a call, sparse metrics, percentiles, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.stub import Stubber
from moto import mock_aws

from aws.metrics import collect_metrics, figures_as_stats_fields
from aws.session import AwsSession
from fakes.scan_seed import put_lambda_metric

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
START = END - timedelta(days=14)
PERIOD = 14 * 86400
SPARSE = (
    "AsyncEventsReceived",
    "AsyncEventsDropped",
    "AsyncEventAge",
    "ProvisionedConcurrencyUtilization",
    "IteratorAge",
)
PLAIN = [
    ("Invocations", "Sum"),
    ("Errors", "Sum"),
    ("Throttles", "Sum"),
    ("Duration", "Average"),
    ("Duration", "Maximum"),
    ("ConcurrentExecutions", "Maximum"),
]
PERCENTILES = [("Duration", "p50"), ("Duration", "p90"), ("Duration", "p99")]

Key = tuple[str, str, str]


def _listed(metric: str, names: list[str]) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = [
        {
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": name}],
        }
        for name in names
    ]
    # A per-alias series: not the function's own figure.
    metrics.append(
        {
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            "Dimensions": [
                {"Name": "FunctionName", "Value": "ghost"},
                {"Name": "Resource", "Value": "ghost:live"},
            ],
        }
    )
    return {"Metrics": metrics}


def _stub_list_metrics(
    stub: Stubber,
    active: list[str],
    sparse: dict[str, list[str]],
    throttled: list[str] | None = None,
) -> None:
    for metric in (
        "Invocations",
        "Throttles",
        "AsyncEventsReceived",
        "ProvisionedConcurrencyUtilization",
        "IteratorAge",
    ):
        if metric == "Invocations":
            names = active
        elif metric == "Throttles":
            names = throttled or []
        else:
            names = sparse.get(metric, [])
        stub.add_response(
            "list_metrics",
            _listed(metric, names),
            {"Namespace": "AWS/Lambda", "MetricName": metric},
        )


def _query(index: int, key: Key, period: int = PERIOD) -> dict[str, Any]:
    function, metric, stat = key
    return {
        "Id": f"q{index}",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _stub_metric_data(
    stub: Stubber,
    keys: list[Key],
    values: dict[Key, float],
    *,
    start: datetime = START,
    period: int = PERIOD,
) -> None:
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": f"q{index}",
                    "Label": key[1],
                    "Timestamps": [START] if key in values else [],
                    "Values": [values[key]] if key in values else [],
                    "StatusCode": "Complete",
                }
                for index, key in enumerate(keys)
            ],
            "Messages": [],
        },
        {
            "MetricDataQueries": [_query(index, key, period) for index, key in enumerate(keys)],
            "StartTime": start,
            "EndTime": END,
            "ScanBy": "TimestampAscending",
        },
    )


def test_figures_with_percentiles_and_sparse_metrics() -> None:
    session = AwsSession(region="us-east-1")
    values: dict[Key, float] = {
        ("orders", "Invocations", "Sum"): 120000.0,
        ("orders", "Errors", "Sum"): 12.0,
        ("orders", "Duration", "Average"): 210.5,
        ("orders", "Duration", "Maximum"): 2900.0,
        ("orders", "Duration", "p50"): 180.0,
        ("orders", "Duration", "p90"): 400.0,
        ("orders", "Duration", "p99"): 1200.0,
        ("orders", "ConcurrentExecutions", "Maximum"): 37.0,
        ("orders", "AsyncEventsReceived", "Sum"): 5000.0,
        ("orders", "AsyncEventsDropped", "Sum"): 3.0,
        ("orders", "AsyncEventAge", "Maximum"): 65000.0,
        ("orders", "AsyncEventAge", "Average"): 120.0,
    }
    active = ["orders", "reports"]
    async_metrics = ["AsyncEventsReceived", "AsyncEventsDropped", "AsyncEventAge"]
    plain: list[Key] = [(name, m, s) for name in active for m, s in PLAIN]
    plain += [
        ("orders", "AsyncEventsReceived", "Sum"),
        ("orders", "AsyncEventsDropped", "Sum"),
        ("orders", "AsyncEventAge", "Maximum"),
        ("orders", "AsyncEventAge", "Average"),
    ]
    percentiles: list[Key] = [(name, m, s) for name in active for m, s in PERCENTILES]
    with Stubber(session.client("cloudwatch")) as stub:
        _stub_list_metrics(stub, active, {metric: ["orders"] for metric in async_metrics})
        _stub_metric_data(stub, plain, values)
        _stub_metric_data(stub, percentiles, values)
        # No invocations in 14 days: one more call reads their last 30 days (IDLE-001).
        _stub_metric_data(
            stub,
            [("idle", "Invocations", "Sum"), ("reports", "Invocations", "Sum")],
            {("reports", "Invocations", "Sum"): 40.0},
            start=END - timedelta(days=30),
            period=30 * 86400,
        )
        result = collect_metrics(
            session, ["orders", "reports", "idle"], start=START, end=END, list_metrics_above=0
        )
        stub.assert_no_pending_responses()
    assert result.idle == {"idle"}
    assert result.warnings == []
    assert figures_as_stats_fields(result.for_function("orders")) == {
        "invocations": 120000,
        "errors": 12,
        "throttles": 0,
        "duration_avg_ms": 210.5,
        "duration_max_ms": 2900.0,
        "duration_p50_ms": 180.0,
        "duration_p90_ms": 400.0,
        "duration_p99_ms": 1200.0,
        "concurrent_executions_max": 37.0,
        "async_events_received": 5000,
        "async_events_dropped": 3,
        "async_event_age_max_ms": 65000.0,
        "async_event_age_avg_ms": 120.0,
    }
    zero_counts = {
        "invocations": 0.0,
        "errors": 0.0,
        "throttles": 0.0,
        "async_events_received": 0.0,
        "async_events_dropped": 0.0,
    }
    assert result.for_function("reports") == {**zero_counts, "invocations_last_30_days": 40.0}
    assert result.for_function("idle") == {**zero_counts, "invocations_last_30_days": 0.0}
    assert figures_as_stats_fields(result.for_function("idle"))["invocations_last_30_days"] == 0
    assert "invocations_last_30_days" not in result.for_function("orders")


def test_queries_are_packed_five_hundred_to_a_call() -> None:
    session = AwsSession(region="us-east-1")
    names = [f"fn-{i:03d}" for i in range(90)]  # 90 × 6 plain figures = 540 queries
    plain: list[Key] = [(name, m, s) for name in names for m, s in PLAIN]
    percentiles: list[Key] = [(name, m, s) for name in names for m, s in PERCENTILES]
    with Stubber(session.client("cloudwatch")) as stub:
        _stub_list_metrics(stub, names, {})
        _stub_metric_data(stub, plain[:500], {})
        _stub_metric_data(stub, plain[500:], {})
        _stub_metric_data(stub, percentiles, {})
        # All 90 were idle in the window: one call reads their last 30 days, not 90.
        _stub_metric_data(
            stub,
            [(name, "Invocations", "Sum") for name in names],
            {},
            start=END - timedelta(days=30),
            period=30 * 86400,
        )
        result = collect_metrics(session, names, start=START, end=END)
        stub.assert_no_pending_responses()
    assert result.warnings == []
    assert result.for_function("fn-089")["invocations"] == 0.0
    assert result.for_function("fn-089")["invocations_last_30_days"] == 0.0
    assert "duration_avg_ms" not in result.for_function("fn-089")


def test_throttled_call_loses_its_figures_not_the_scan() -> None:
    session = AwsSession(region="us-east-1")
    names = ["orders"]
    plain: list[Key] = [("orders", m, s) for m, s in PLAIN]
    with Stubber(session.client("cloudwatch")) as stub:
        _stub_list_metrics(stub, names, {})
        stub.add_client_error(
            "get_metric_data",
            service_error_code="Throttling",
            service_message="Rate exceeded",
            http_status_code=400,
        )
        _stub_metric_data(
            stub,
            [("orders", m, s) for m, s in PERCENTILES],
            {("orders", "Duration", "p99"): 900.0},
        )
        result = collect_metrics(session, names, start=START, end=END, list_metrics_above=0)
        stub.assert_no_pending_responses()
    assert len(plain) == 6
    assert result.for_function("orders") == {
        "duration_p99_ms": 900.0,
        "async_events_received": 0.0,
        "async_events_dropped": 0.0,
    }
    assert result.warnings == [
        "AWS kept throttling the request to read CloudWatch metrics; try again later."
    ]


def test_old_windows_query_every_function_without_listing() -> None:
    session = AwsSession(region="us-east-1")
    start = END - timedelta(days=30)
    keys: list[Key] = [("a", m, s) for m, s in PLAIN]
    keys += [("a", metric, stat) for metric, stat in _sparse_pairs()]
    with Stubber(session.client("cloudwatch")) as stub:
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [], "Messages": []},
            {
                "MetricDataQueries": [
                    {
                        **_query(i, key),
                        "MetricStat": {**_query(i, key)["MetricStat"], "Period": 30 * 86400},
                    }
                    for i, key in enumerate(keys)
                ],
                "StartTime": start,
                "EndTime": END,
                "ScanBy": "TimestampAscending",
            },
        )
        stub.add_response("get_metric_data", {"MetricDataResults": [], "Messages": []})
        result = collect_metrics(session, ["a"], start=start, end=END)
        stub.assert_no_pending_responses()
    assert result.idle == set()
    assert result.for_function("a") == {}


def _sparse_pairs() -> list[tuple[str, str]]:
    return [
        ("AsyncEventsReceived", "Sum"),
        ("AsyncEventsDropped", "Sum"),
        ("AsyncEventAge", "Maximum"),
        ("AsyncEventAge", "Average"),
        ("ProvisionedConcurrencyUtilization", "Maximum"),
        ("ProvisionedConcurrencyUtilization", "Average"),
        ("IteratorAge", "Maximum"),
    ]


@mock_aws
def test_against_moto_counts_and_averages() -> None:
    session = AwsSession(region="us-east-1")
    now = datetime.now(UTC)
    cloudwatch = session.client("cloudwatch")
    put_lambda_metric(cloudwatch, "orders", "Invocations", [100, 50], now - timedelta(hours=1))
    put_lambda_metric(cloudwatch, "orders", "Duration", [120, 80], now - timedelta(hours=1))
    put_lambda_metric(cloudwatch, "orders", "IteratorAge", [3000, 9000], now - timedelta(hours=1))
    result = collect_metrics(
        session, ["orders", "idle"], start=now - timedelta(days=14), end=now, list_metrics_above=0
    )
    figures = result.for_function("orders")
    assert figures["invocations"] == 150.0
    assert figures["duration_avg_ms"] == 100.0
    assert figures["duration_max_ms"] == 120.0
    assert figures["iterator_age_max_ms"] == 9000.0
    assert result.idle == {"idle"}


def test_a_few_functions_are_queried_without_listing() -> None:
    session = AwsSession(region="us-east-1")
    keys: list[Key] = [("a", m, s) for m, s in PLAIN]
    keys += [("a", metric, stat) for metric, stat in _sparse_pairs()]
    with Stubber(session.client("cloudwatch")) as stub:
        _stub_metric_data(stub, keys, {("a", "Invocations", "Sum"): 4.0})
        _stub_metric_data(stub, [("a", m, s) for m, s in PERCENTILES], {})
        result = collect_metrics(session, ["a"], start=START, end=END)
        stub.assert_no_pending_responses()
    assert result.for_function("a") == {
        "invocations": 4.0,
        "errors": 0.0,
        "throttles": 0.0,
        "async_events_received": 0.0,
        "async_events_dropped": 0.0,
    }


def test_a_function_throttled_to_zero_is_not_idle() -> None:
    session = AwsSession(region="us-east-1")
    plain: list[Key] = [("blocked", m, s) for m, s in PLAIN]
    percentiles: list[Key] = [("blocked", m, s) for m, s in PERCENTILES]
    with Stubber(session.client("cloudwatch")) as stub:
        _stub_list_metrics(stub, [], {}, throttled=["blocked"])
        _stub_metric_data(stub, plain, {("blocked", "Throttles", "Sum"): 812.0})
        _stub_metric_data(stub, percentiles, {})
        result = collect_metrics(
            session, ["blocked", "quiet"], start=START, end=END, list_metrics_above=0
        )
        stub.assert_no_pending_responses()
    assert result.idle == {"quiet"}
    assert result.for_function("blocked")["throttles"] == 812.0
    assert result.for_function("blocked")["invocations"] == 0.0

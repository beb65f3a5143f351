"""Cost anomaly attribution: one GetMetricData batch, both windows, top contributors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aws.cost_attribution import attribute_cost, fetch_usage
from aws.errors import ThrottledError
from aws.session import AwsSession

START = datetime(2024, 2, 10, tzinfo=UTC)
END = datetime(2024, 2, 12, tzinfo=UTC)
PREVIOUS = START - timedelta(days=2)
PERIOD = 2 * 86400


def session() -> AwsSession:
    return AwsSession(boto3.Session(region_name="us-east-1"), region="us-east-1", max_attempts=1)


def config(
    name: str, memory: int, modified: str = "2023-01-01T00:00:00.000+0000"
) -> dict[str, Any]:
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "MemorySize": memory,
        "Architectures": ["arm64"] if name == "resize" else ["x86_64"],
        "LastModified": modified,
    }


def query(query_id: str, name: str, metric: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": name}],
            },
            "Period": PERIOD,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def result(query_id: str, before: float | None, during: float | None) -> dict[str, Any]:
    stamps, values = [], []
    if before is not None:
        stamps.append(PREVIOUS)
        values.append(before)
    if during is not None:
        stamps.append(START)
        values.append(during)
    return {"Id": query_id, "Timestamps": stamps, "Values": values, "StatusCode": "Complete"}


def expected_request(names: list[str]) -> dict[str, Any]:
    queries = []
    for index, name in enumerate(names):
        queries.append(query(f"d{index}", name, "Duration"))
        queries.append(query(f"n{index}", name, "Invocations"))
    return {
        "MetricDataQueries": queries,
        "StartTime": PREVIOUS,
        "EndTime": END,
        "ScanBy": "TimestampAscending",
    }


def test_top_contributors_with_what_changed() -> None:
    aws = session()
    configs = [
        config("checkout", 1024, "2024-02-10T09:15:00.000+0000"),
        config("idle", 128),
        config("resize", 2048),
    ]
    with Stubber(aws.client("cloudwatch")) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    # checkout: same traffic, 4x the duration since a deploy.
                    result("d0", 1_000_000.0, 4_000_000.0),
                    result("n0", 10_000.0, 10_000.0),
                    # idle: no data at all (a Sum without datapoints is zero).
                    result("d1", None, None),
                    result("n1", None, None),
                    # resize: 3x the traffic.
                    result("d2", 2_000_000.0, 6_000_000.0),
                    result("n2", 1_000.0, 3_000.0),
                ]
            },
            expected_request(["checkout", "idle", "resize"]),
        )
        attribution = attribute_cost(aws, window_start=START, window_end=END, configs=configs)
        stub.assert_no_pending_responses()
    assert attribution.functions_compared == 3
    assert [c.function_name for c in attribution.contributors] == ["resize", "checkout"]
    resize, checkout = attribution.contributors
    # 4,000 s more at 2 GB on arm64, plus 2,000 requests.
    assert resize.gb_seconds_during - resize.gb_seconds_before == pytest.approx(8000.0)
    assert resize.cost_increase_usd == pytest.approx(8000 * 0.0000133334 + 2000 * 0.0000002)
    assert resize.changes == ("traffic 3.0× (1,000 → 3,000 requests)",)
    assert checkout.cost_increase_usd == pytest.approx(3000 * 0.0000166667)
    assert checkout.changes == (
        "average duration 4.0× (100 → 400 ms)",
        "deployed or reconfigured 2024-02-10 09:15 UTC (memory now 1024 MB)",
    )
    assert attribution.total_increase_usd == pytest.approx(
        resize.cost_increase_usd + checkout.cost_increase_usd
    )
    assert attribution.previous_start == PREVIOUS


def test_batches_of_500_queries_and_next_token() -> None:
    aws = session()
    names = [f"fn{i:03d}" for i in range(251)]
    with Stubber(aws.client("cloudwatch")) as stub:
        first = expected_request(names[:250])
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [result("d0", 1.0, None)], "NextToken": "page-2"},
            first,
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [result("d0", None, 5.0), result("n0", 2.0, 3.0)]},
            {**first, "NextToken": "page-2"},
        )
        second = expected_request(names[250:])
        second["MetricDataQueries"] = [
            {**q, "Id": q["Id"][0] + "250"} for q in second["MetricDataQueries"]
        ]
        stub.add_response("get_metric_data", {"MetricDataResults": []}, second)
        usage = fetch_usage(aws, names, window_start=START, window_end=END)
        stub.assert_no_pending_responses()
    before, during = usage["fn000"]
    assert (before.duration_sum_ms, during.duration_sum_ms) == (1.0, 5.0)
    assert (before.invocations, during.invocations) == (2.0, 3.0)
    assert len(first["MetricDataQueries"]) == 500


def test_throttling_is_raised_for_a_retry() -> None:
    aws = session()
    with Stubber(aws.client("cloudwatch")) as stub:
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        with pytest.raises(ThrottledError):
            fetch_usage(aws, ["checkout"], window_start=START, window_end=END)

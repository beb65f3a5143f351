"""The scan's log-group reads on moto: DescribeLogGroups by prefix (retention, stored bytes),
AWS/Logs IncomingBytes in the batched GetMetricData, and groups shared by several functions.

moto ignores ``LoggingConfig`` on CreateFunction, so a custom (shared) log group is put into
the ListFunctions response at botocore's edge, shaped as AWS documents it. moto also omits
``logGroupClass`` from DescribeLogGroups (AWS always returns it), so the class reads unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from aws.log_groups import describe_log_groups, log_group_info, prefixes_for
from aws.scan import ScanOptions, scan_region
from aws.session import AwsSession
from fakes.scan_seed import create_function, create_role, put_lambda_metric, python_zip
from recommendations.snapshot import LogGroupClass, LogGroupInfo

NOW = datetime.now(UTC).replace(microsecond=0)
SHARED = "/shop/shared"


def put_incoming_bytes(cloudwatch: Any, group: str, values: list[float]) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/Logs",
        MetricData=[
            {
                "MetricName": "IncomingBytes",
                "Dimensions": [{"Name": "LogGroupName", "Value": group}],
                "Value": value,
                "Unit": "Bytes",
                "Timestamp": NOW - timedelta(hours=2, minutes=index),
            }
            for index, value in enumerate(values)
        ],
    )


def _log_to_shared_group(session: AwsSession, names: set[str]) -> None:
    def add_logging_config(parsed: dict[str, Any], **_: Any) -> None:
        for config in parsed.get("Functions", []):
            if config["FunctionName"] in names:
                config["LoggingConfig"] = {"LogFormat": "Text", "LogGroup": SHARED}

    session.client("lambda").meta.events.register(
        "after-call.lambda.ListFunctions", add_logging_config
    )


def _count_calls(session: AwsSession, service: str) -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    session.client(service).meta.events.register(f"before-call.{service}", count)
    return calls


@pytest.fixture
def account() -> Iterator[AwsSession]:
    with mock_aws():
        session = AwsSession(region="us-east-1")
        role = create_role(session.client("iam"))
        lam = session.client("lambda")
        logs = session.client("logs")
        cloudwatch = session.client("cloudwatch")
        for name in ("orders", "images", "cart", "basket"):
            create_function(lam, name, role=role, code=python_zip(name))
            put_lambda_metric(cloudwatch, name, "Invocations", [100], NOW - timedelta(hours=2))
        create_function(lam, "idle", role=role, code=python_zip("idle"))
        logs.create_log_group(logGroupName="/aws/lambda/orders")
        logs.put_retention_policy(logGroupName="/aws/lambda/orders", retentionInDays=14)
        logs.create_log_group(logGroupName="/aws/lambda/images")
        logs.create_log_group(logGroupName="/aws/lambda/ordersx")  # a namesake by prefix
        logs.create_log_group(logGroupName=SHARED)
        put_incoming_bytes(cloudwatch, "/aws/lambda/orders", [5000, 3000])
        put_incoming_bytes(cloudwatch, SHARED, [9000])
        yield session


def test_scan_reads_retention_and_ingestion_per_log_group(account: AwsSession) -> None:
    _log_to_shared_group(account, {"cart", "basket"})
    logs_calls = _count_calls(account, "logs")
    metric_calls = _count_calls(account, "cloudwatch")
    options = ScanOptions(now=NOW, scan_packages=False, insights_poll_interval_s=0.0)
    fleet = scan_region(account, options)
    functions = {fn.name: fn for fn in fleet.functions}

    orders = functions["orders"]
    assert orders.log_group_info == LogGroupInfo(
        name="/aws/lambda/orders", retention_days=14, log_class=None, stored_bytes=0
    )
    assert orders.stats is not None and orders.stats.log_ingested_bytes == 8000
    images = functions["images"]
    assert images.log_group_info is not None
    assert images.log_group_info.retention_days is None  # never expires
    # The group exists and ingested nothing in the window.
    assert images.stats is not None and images.stats.log_ingested_bytes == 0
    # A shared group's 9,000 bytes cannot be split: unknown for each, and each says with whom.
    for name, other in (("cart", "basket"), ("basket", "cart")):
        fn = functions[name]
        assert fn.log_group_info is not None
        assert (fn.log_group_info.name, fn.log_group_info.shared_with) == (SHARED, (other,))
        assert fn.stats is not None and fn.stats.log_ingested_bytes is None
    # idle: no group, and (ListMetrics not used for five functions) its group was queried too.
    assert functions["idle"].log_group_info is None
    # Three default groups (orders, images, idle) read by name, and the custom one.
    assert logs_calls["DescribeLogGroups"] == 4
    # IncomingBytes went into the calls the Lambda figures use (plain + percentiles); the third
    # reads 30 days of Invocations for the function idle in the window (IDLE-001).
    assert metric_calls["GetMetricData"] == 3


def test_many_default_groups_are_listed_with_one_prefix() -> None:
    names = [f"/aws/lambda/fn-{index}" for index in range(6)]
    assert prefixes_for([*names, "/custom/a", "/custom/a/b", "/custom/ab"]) == [
        "/aws/lambda/",
        "/custom/a",
    ]
    assert prefixes_for(names[:2]) == names[:2]


def test_listing_pages_through_the_prefix(account: AwsSession) -> None:
    logs = account.client("logs")
    for index in range(60):
        logs.create_log_group(logGroupName=f"/aws/lambda/bulk-{index:02d}")
    wanted = [f"/aws/lambda/bulk-{index:02d}" for index in range(0, 60, 7)]
    calls = _count_calls(account, "logs")
    found = describe_log_groups(account, [*wanted, "/aws/lambda/missing"])
    assert sorted(found.groups) == sorted(wanted)
    assert calls["DescribeLogGroups"] == 2  # 64 groups under the prefix, 50 a page
    assert found.warnings == []


def test_denied_listing_leaves_groups_unknown_and_the_scan_goes_on(account: AwsSession) -> None:
    def deny(**_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        parsed = {
            "Error": {"Code": "AccessDeniedException", "Message": "not allowed"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://logs.us-east-1.amazonaws.com", 400, {}, None), parsed

    account.client("logs").meta.events.register("before-call.logs.DescribeLogGroups", deny)
    options = ScanOptions(now=NOW, scan_packages=False, insights_poll_interval_s=0.0)
    fleet = scan_region(account, options)
    functions = {fn.name: fn for fn in fleet.functions}
    assert fleet.errors == {}
    assert functions["orders"].log_group_info is None
    # The metric does not depend on the listing.
    assert functions["orders"].stats is not None
    assert functions["orders"].stats.log_ingested_bytes == 8000


def test_log_group_info_reads_what_aws_documents() -> None:
    raw = {
        "logGroupName": "/aws/lambda/orders",
        "retentionInDays": 30,
        "logGroupClass": "INFREQUENT_ACCESS",
        "storedBytes": 1234,
        "metricFilterCount": 0,
    }
    assert log_group_info(raw, ["b", "a", "b"]) == LogGroupInfo(
        name="/aws/lambda/orders",
        retention_days=30,
        log_class=LogGroupClass.INFREQUENT_ACCESS,
        stored_bytes=1234,
        shared_with=("a", "b"),
    )

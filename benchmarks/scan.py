"""API calls and wall time of a full ``scan_region`` over 1,000 functions (moto, in process).

    .venv/bin/python benchmarks/scan.py [--functions 1000]

Seeds an in-process moto account with functions (tags, a few SQS event source mappings,
some arm64 functions, 25 distinct packages), CloudWatch metrics for every function and
REPORT log lines, then scans it once with call counting on every client (botocore
``before-call`` hooks on the scan's session). Prints calls by operation, the total, the total
without the package scan's ``GetFunction`` calls (which the budget sets aside), and wall time.

The baseline is computed, not run: what a one-function-at-a-time collector needs (GetFunction,
ListTags, ListEventSourceMappings, GetFunctionEventInvokeConfig,
ListProvisionedConcurrencyConfigs, one GetMetricStatistics per figure, one FilterLogEvents).
Prints figures and ratios; asserts nothing.

moto has no Logs Insights, so this run exercises the sampling fallback (one FilterLogEvents
per sampled function, 25 by default, which also yields their error types) after one refused
SOURCE query and one probe query. With Insights the log statistics cost one SOURCE query over
``/aws/lambda/`` plus its polls (or, where SOURCE is refused, one query per 50 log groups plus
polls) instead, and the error types one more query over the 50 functions with most errors.
Every seeded function ran, so the 30-day Invocations read for idle ones costs nothing here.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(variable, None)

from moto import mock_aws  # noqa: E402

from aws.metrics import CORE_FIGURES, SPARSE_FIGURES  # noqa: E402
from aws.package_scan import PackageScanner  # noqa: E402
from aws.scan import ScanOptions, scan_region  # noqa: E402
from aws.session import AwsSession  # noqa: E402
from fakes.scan_seed import (  # noqa: E402
    create_role,
    elf_header,
    make_zip,
    report_line,
)
from recommendations.snapshot import FigureSource  # noqa: E402

BUDGET = 150
PACKAGES = 25
QUEUES = 20
FUNCTIONS_PER_QUEUE = 3
ASYNC_FUNCTIONS = 10
ARM_SHARE = 0.3


def _packages() -> list[bytes]:
    packages = []
    for index in range(PACKAGES):
        files = {"app.py": f"def handler(event, context):\n    return {index}\n".encode()}
        if index % 5 == 0:  # every fifth package ships an x86_64 extension module
            files[f"lib/_native{index}.so"] = elf_header(62) + bytes(64)
        packages.append(make_zip(files))
    return packages


def seed(count: int, now: datetime) -> list[bytes]:
    session = AwsSession(region="us-east-1")
    lam = session.client("lambda")
    role = create_role(session.client("iam"))
    packages = _packages()
    names = [f"svc-{index:04d}" for index in range(count)]
    for index, name in enumerate(names):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": packages[index % PACKAGES]},
            MemorySize=(128, 512, 1024, 2048)[index % 4],
            Timeout=30,
            Architectures=["arm64" if index % 10 < ARM_SHARE * 10 else "x86_64"],
            Tags={"team": f"team-{index % 7}", "env": "prod" if index % 2 else "dev"},
        )
    sqs = session.client("sqs")
    for queue_index in range(QUEUES):
        url = sqs.create_queue(
            QueueName=f"jobs-{queue_index}", Attributes={"VisibilityTimeout": "180"}
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for offset in range(FUNCTIONS_PER_QUEUE):
            lam.create_event_source_mapping(
                EventSourceArn=arn,
                FunctionName=names[queue_index * FUNCTIONS_PER_QUEUE + offset],
                BatchSize=10,
            )
    cloudwatch = session.client("cloudwatch")
    logs = session.client("logs")
    when = now - timedelta(hours=3)
    datums: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        dimension = [{"Name": "FunctionName", "Value": name}]
        datums += [
            {"MetricName": "Invocations", "Dimensions": dimension, "Value": 100.0 + index},
            {"MetricName": "Duration", "Dimensions": dimension, "Value": 50.0 + index % 300},
            {"MetricName": "Errors", "Dimensions": dimension, "Value": float(index % 3)},
        ]
        if index < ASYNC_FUNCTIONS:
            datums.append(
                {"MetricName": "AsyncEventsReceived", "Dimensions": dimension, "Value": 12.0}
            )
        group = f"/aws/lambda/{name}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        memory = (128, 512, 1024, 2048)[index % 4]
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[
                {
                    "timestamp": int(when.timestamp() * 1000) + offset,
                    "message": report_line(
                        f"{name}-{offset}",
                        60 + offset,
                        min(memory, 90),
                        memory,
                        250.0 if offset == 0 else None,
                    ),
                }
                for offset in range(5)
            ],
        )
    for start in range(0, len(datums), 1000):
        chunk = [dict(datum, Timestamp=when) for datum in datums[start : start + 1000]]
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=chunk)
    return packages


def naive_calls(count: int, sampled_logs: int) -> int:
    """A one-function-at-a-time collector: 5 config calls + one per figure + one log read."""
    figures = len(CORE_FIGURES) + len(SPARSE_FIGURES)
    return count * (5 + figures) + sampled_logs + QUEUES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", type=int, default=1000)
    args = parser.parse_args()
    # moto cannot compute percentile statistics; the scan logs that once per call. Quiet here.
    logging.basicConfig(level=logging.ERROR)
    now = datetime.now(UTC).replace(microsecond=0)
    with mock_aws():
        started = time.perf_counter()
        packages = seed(args.functions, now)
        seeded = time.perf_counter() - started

        scan_session = AwsSession(region="us-east-1")
        calls: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            _, service, operation = event_name.split(".", 2)
            calls[f"{service}:{operation}"] += 1

        scan_session.boto_session.events.register("before-call.*.*", count)
        downloads: Counter[str] = Counter()

        def fetch(url: str, cap: int) -> bytes:
            name = url.rsplit("/", 1)[-1].rsplit("-", 5)[0]
            downloads[name] += 1
            index = int(name.split("-")[1])
            return packages[index % PACKAGES]

        scanner = PackageScanner(fetch=fetch)
        options = ScanOptions(now=now, insights_poll_interval_s=0.0)
        started = time.perf_counter()
        fleet = scan_region(scan_session, options, scanner=scanner)
        wall = time.perf_counter() - started

    package_calls = calls.get("lambda:GetFunction", 0)
    total = sum(calls.values())
    budgeted = total - package_calls
    with_native = sum(1 for fn in fleet.functions if fn.native_binaries)
    sampled = sum(1 for fn in fleet.functions if fn.stats and fn.stats.log_sample_invocations)
    naive = naive_calls(args.functions, args.functions)
    print(f"functions seeded: {args.functions} (seeding took {seeded:.1f} s)")
    print(f"functions scanned: {len(fleet.functions)}, errors: {len(fleet.errors)}")
    print(f"functions with x86-only native code found: {with_native}")
    print(f"functions with log statistics (sampling fallback): {sampled}")
    # moto has no CloudWatch percentiles: these come from the REPORT lines already read.
    from_logs = sum(
        1
        for fn in fleet.functions
        if fn.stats and fn.stats.duration_percentiles_source is FigureSource.LOGS
    )
    print(f"functions with duration percentiles from REPORT lines: {from_logs}")
    print()
    print(f"{'operation':<48} {'calls':>6}")
    for operation, number in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"{operation:<48} {number:>6}")
    print()
    print(f"total API calls:                              {total:>6}")
    print(f"  package scan GetFunction (set aside):       {package_calls:>6}")
    print(f"  package downloads:                          {sum(downloads.values()):>6}")
    print(f"total within the budget:                      {budgeted:>6}  (target <= {BUDGET})")
    per_function_cw = [
        op for op in calls if op.startswith("cloudwatch:") and calls[op] >= args.functions
    ]
    print(f"per-function CloudWatch operations:           {len(per_function_cw):>6}")
    print(f"naive one-function-at-a-time baseline:        {naive:>6}")
    print(f"ratio (baseline / tunebot):                   {naive / max(1, budgeted):>6.1f}x")
    print(f"wall time of the scan:                        {wall:>6.1f} s")
    # moto returns every function in one ListFunctions page, pages tags by tag count and has
    # no Logs Insights. The same scan against AWS, from the documented page sizes, with the
    # log statistics from one SOURCE query (its polls wait 4 s, then 1.5 times longer each
    # time: five polls cover a query of about a minute) or, where SOURCE is refused, from
    # one query per 50 log groups polled twice each.
    active = sum(1 for fn in fleet.functions if fn.stats and fn.stats.invocations)
    list_pages = -(-args.functions // 50)
    tag_pages = -(-args.functions // 100)
    # Log statistics only: DescribeLogGroups pages (50 groups each) cost the same on AWS.
    logs_calls = sum(
        v
        for k, v in calls.items()
        if k.startswith("cloudwatch-logs:") and k != "cloudwatch-logs:DescribeLogGroups"
    )
    common = (
        budgeted
        - calls.get("lambda:ListFunctions", 0)
        + list_pages
        - calls.get("resource-groups-tagging-api:GetResources", 0)
        + tag_pages
        - logs_calls
    )
    source_calls = 1 + 5
    batch_calls = -(-active // 50) * 3
    # Error types: one more query over the (at most 50) functions with the most errors,
    # polled twice.
    failing = sum(1 for fn in fleet.functions if fn.stats and fn.stats.errors)
    error_calls = 3 if failing else 0
    print(
        f"estimate on AWS (ListFunctions {list_pages} pages, GetResources {tag_pages} pages): "
        f"{common + source_calls + error_calls} with one SOURCE query, "
        f"{common + batch_calls + error_calls} with {-(-active // 50)} batched Insights queries "
        f"(each including {error_calls} for the error-types query)"
    )
    print(json.dumps({"total_calls": total, "budgeted_calls": budgeted, "wall_s": round(wall, 2)}))


if __name__ == "__main__":
    main()

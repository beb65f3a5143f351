"""scan_region end to end on moto, with per-function failures injected at botocore's edge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from aws.errors import AccessDeniedError, FunctionNotFoundError
from aws.logs.error_types import ERROR_TYPES_QUERY
from aws.logs.insights import InsightsResult, InsightsRunner
from aws.logs.stats import LogStats
from aws.package_scan import PackageScanner
from aws.scan import (
    ScanOptions,
    merge_snapshots,
    scan_all,
    scan_function,
    scan_region,
    scan_targets,
    stats_for_function,
)
from aws.session import AccountTarget, AwsSession
from fakes.scan_seed import (
    create_function,
    create_role,
    elf_header,
    make_zip,
    put_lambda_metric,
    python_zip,
    report_line,
    write_log_lines,
)
from recommendations.snapshot import (
    Architecture,
    AsyncInvokeConfig,
    EventSourceKind,
    FigureSource,
    NativeBinary,
    RedrivePolicy,
)

NOW = datetime.now(UTC).replace(microsecond=0)
ORDERS_ZIP = make_zip(
    {"app.py": b"import fastjson\n", "fastjson/_speedups.so": elf_header(62) + bytes(32)}
)


def _fetch(url: str, cap: int) -> bytes:
    key = url.rsplit("/", 1)[-1]
    return ORDERS_ZIP if key.startswith("orders-") else python_zip("plain")


def _error_response(code: str, message: str, status: int) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return AWSResponse("https://lambda.us-east-1.amazonaws.com", status, {}, None), parsed


def deny_for(session: AwsSession, service: str, operation: str, function: str, code: str) -> None:
    """Make one operation fail for one function, as an IAM deny or throttling would."""

    def handler(params: dict[str, Any], **_: Any) -> Any:
        if f"/functions/{function}/" in params.get("url_path", "") + "/":
            status = 403 if "Denied" in code else 429
            return _error_response(code, f"{code} for {function}", status)
        return None

    session.client(service).meta.events.register(f"before-call.{service}.{operation}", handler)


@pytest.fixture
def account() -> Iterator[AwsSession]:
    with mock_aws():
        session = AwsSession(region="us-east-1")
        role = create_role(session.client("iam"))
        lam = session.client("lambda")
        sqs = session.client("sqs")
        cloudwatch = session.client("cloudwatch")
        logs = session.client("logs")

        create_function(
            lam,
            "orders",
            role=role,
            code=ORDERS_ZIP,
            memory=2048,
            timeout=20,
            tags={"team": "shop", "aws:cloudformation:stack-name": "shop-prod"},
        )
        create_function(
            lam,
            "images",
            role=role,
            code=python_zip("images"),
            architectures=("arm64",),
            log_format="JSON",
        )
        create_function(lam, "secret", role=role, code=python_zip("secret"))
        create_function(lam, "idle", role=role, code=python_zip("idle"))

        dlq = sqs.create_queue(QueueName="orders-dlq")
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue = sqs.create_queue(
            QueueName="orders-q",
            Attributes={
                "VisibilityTimeout": "120",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
            },
        )
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=queue["QueueUrl"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        lam.create_event_source_mapping(
            EventSourceArn=queue_arn, FunctionName="orders", BatchSize=10
        )
        lam.put_function_event_invoke_config(
            FunctionName="orders",
            MaximumRetryAttempts=0,
            MaximumEventAgeInSeconds=3600,
            DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
        )

        when = NOW - timedelta(hours=2)
        for name in ("orders", "images", "secret"):
            put_lambda_metric(cloudwatch, name, "Invocations", [1000, 500], when)
            put_lambda_metric(cloudwatch, name, "Duration", [300, 100], when)
        put_lambda_metric(cloudwatch, "orders", "Errors", [7], when)
        put_lambda_metric(cloudwatch, "orders", "AsyncEventsReceived", [40], when)
        put_lambda_metric(cloudwatch, "secret", "AsyncEventsReceived", [9], when)
        write_log_lines(
            logs,
            "orders",
            [
                "START RequestId: r1 Version: $LATEST",
                report_line("r1", 301, 400, 2048, init=450.0),
                report_line("r2", 99, 420, 2048),
                f"{when.isoformat()} 8f507cfc-0000-4697-b07a-ac58fc914c95 "
                "Task timed out after 20.00 seconds",
                report_line("8f507cfc-0000-4697-b07a-ac58fc914c95", 20000, 430, 2048),
            ],
            when,
        )
        write_log_lines(
            logs,
            "images",
            [
                json.dumps(
                    {
                        "time": when.isoformat(),
                        "type": "platform.report",
                        "record": {
                            "requestId": "j1",
                            "metrics": {
                                "durationMs": 50.0,
                                "billedDurationMs": 50,
                                "memorySizeMB": 1024,
                                "maxMemoryUsedMB": 1024,
                            },
                            "status": "error",
                            "errorType": "Runtime.OutOfMemory",
                        },
                    }
                )
            ],
            when,
        )
        yield session


def _options(**overrides: Any) -> ScanOptions:
    values: dict[str, Any] = {"now": NOW, "insights_poll_interval_s": 0.0}
    values.update(overrides)
    return ScanOptions(**values)


def test_scan_region_collects_everything(account: AwsSession) -> None:
    deny_for(account, "lambda", "GetFunctionEventInvokeConfig", "secret", "AccessDeniedException")
    scanner = PackageScanner(fetch=_fetch)
    fleet = scan_region(account, _options(), scanner=scanner)

    assert fleet.account_id == "123456789012"
    assert fleet.region == "us-east-1"
    assert fleet.window_end == NOW
    assert fleet.window_days == 14
    assert sorted(fn.name for fn in fleet.functions) == ["idle", "images", "orders"]
    assert fleet.errors == {
        "secret": "Access denied: the credentials may not read the async invoke config of "
        "secret in us-east-1 (AccessDeniedException for secret)."
    }
    functions = {fn.name: fn for fn in fleet.functions}

    orders = functions["orders"]
    assert orders.cloudformation_stack == "shop-prod"
    assert orders.tags == {"team": "shop", "aws:cloudformation:stack-name": "shop-prod"}
    assert (orders.memory_mb, orders.timeout_s, orders.architecture) == (
        2048,
        20,
        Architecture.X86_64,
    )
    assert orders.async_config == AsyncInvokeConfig(
        maximum_retry_attempts=0,
        maximum_event_age_s=3600,
        on_failure_destination="arn:aws:sqs:us-east-1:123456789012:orders-dlq",
    )
    [mapping] = orders.event_source_mappings
    assert mapping.kind is EventSourceKind.SQS
    assert mapping.batch_size == 10
    assert mapping.queue_visibility_timeout_s == 120
    assert mapping.queue_is_fifo is False
    assert mapping.queue_redrive_policy == RedrivePolicy(
        dead_letter_target_arn="arn:aws:sqs:us-east-1:123456789012:orders-dlq", max_receive_count=5
    )
    assert orders.native_binaries == (
        NativeBinary(path="fastjson/_speedups.so", machine="x86_64", kind="shared_object"),
    )
    stats = orders.stats
    assert stats is not None
    assert (stats.invocations, stats.errors, stats.throttles) == (1500, 7, 0)
    assert (stats.duration_avg_ms, stats.duration_max_ms) == (200.0, 300.0)
    assert stats.async_events_received == 40
    # From the sampled REPORT lines (moto has no Logs Insights, so the fallback ran).
    assert stats.log_sample_invocations == 3
    assert stats.max_memory_used_mb == 430
    assert stats.cold_starts == 1
    assert stats.init_duration_avg_ms == 450.0
    assert stats.timeouts == 1
    assert stats.out_of_memory == 0
    assert stats.billed_duration_avg_ms == pytest.approx((301 + 99 + 20000) / 3)
    # moto computes no CloudWatch percentiles: they come from the same REPORT lines, and the
    # snapshot says so.
    assert (stats.duration_p50_ms, stats.duration_p90_ms, stats.duration_p99_ms) == (
        300.5,
        19999.5,
        19999.5,
    )
    assert stats.duration_percentiles_source is FigureSource.LOGS

    images = functions["images"]
    assert images.architecture is Architecture.ARM64
    assert images.native_binaries is None  # already arm64: not a candidate, not downloaded
    assert images.stats is not None and images.stats.out_of_memory == 1

    idle = functions["idle"]
    assert idle.stats is not None
    assert (idle.stats.invocations, idle.stats.log_sample_invocations) == (0, None)
    assert idle.native_binaries is None  # idle: not worth a download
    assert (idle.stats.duration_p50_ms, idle.stats.duration_percentiles_source) == (None, None)
    assert scanner.downloads == 1  # orders, the one busy x86_64 zip function


def test_throttled_per_function_read_leaves_the_figure_unknown(account: AwsSession) -> None:
    deny_for(
        account, "lambda", "GetFunctionEventInvokeConfig", "orders", "TooManyRequestsException"
    )
    fleet = scan_region(account, _options(scan_packages=False))
    orders = next(fn for fn in fleet.functions if fn.name == "orders")
    assert orders.async_config is None
    assert "orders" not in fleet.errors
    assert orders.native_binaries is None


def test_named_functions_use_the_direct_path(account: AwsSession) -> None:
    fleet = scan_region(account, _options(function_names=("orders", "ordrs"), scan_packages=False))
    assert [fn.name for fn in fleet.functions] == ["orders"]
    assert fleet.errors == {
        "ordrs": "Function 'ordrs' was not found in us-east-1 (did you mean 'orders'?)."
    }
    orders = fleet.functions[0]
    assert orders.provisioned_concurrency is None or orders.provisioned_concurrency == 0
    assert orders.event_source_mappings[0].queue_visibility_timeout_s == 120
    assert orders.stats is not None and orders.stats.invocations == 1500


def test_scan_function_raises_not_found(account: AwsSession) -> None:
    with pytest.raises(FunctionNotFoundError) as caught:
        scan_function("nope", account, _options(scan_packages=False))
    assert str(caught.value).startswith("Function 'nope' was not found in us-east-1")


def test_regions_give_one_snapshot_each_and_merge(account: AwsSession) -> None:
    other = account.for_region("eu-west-1")
    snapshots = scan_all([account, other], _options(scan_packages=False))
    assert [(s.region, len(s.functions)) for s in snapshots] == [("us-east-1", 4), ("eu-west-1", 0)]
    merged = merge_snapshots(snapshots)
    assert merged.region is None
    assert merged.account_id == "123456789012"
    assert len(merged.functions) == 4


def _deny_assume_role(session: AwsSession) -> None:
    def handler(**_: Any) -> Any:
        return _error_response("AccessDenied", "not authorized to perform: sts:AssumeRole", 403)

    session.client("sts").meta.events.register("before-call.sts.AssumeRole", handler)


def test_scan_targets_continue_past_a_role_that_cannot_be_assumed(account: AwsSession) -> None:
    _deny_assume_role(account)
    role = "arn:aws:iam::111122223333:role/tunebot-scan"
    outcome = scan_targets(
        [AccountTarget(role_arn=role), AccountTarget(regions=("us-east-1", "eu-west-1"))],
        [],
        _options(scan_packages=False),
        base=account,
    )
    assert [(s.region, len(s.functions)) for s in outcome.snapshots] == [
        ("us-east-1", 4),
        ("eu-west-1", 0),
    ]
    assert outcome.failures == {
        role: f"Access denied: the credentials may not assume the role {role} "
        "(not authorized to perform: sts:AssumeRole)."
    }
    merged = merge_snapshots(outcome.snapshots, outcome.failures)
    assert merged.errors == outcome.failures
    assert merged.region is None


def test_scan_targets_raise_when_nothing_could_be_scanned(account: AwsSession) -> None:
    _deny_assume_role(account)
    with pytest.raises(AccessDeniedError):
        scan_targets(
            [AccountTarget(role_arn="arn:aws:iam::111122223333:role/tunebot-scan")],
            ["us-east-1"],
            _options(scan_packages=False),
            base=account,
        )


def test_a_configuration_tunebot_cannot_model_costs_only_that_function(
    account: AwsSession,
) -> None:
    def future_architecture(parsed: dict[str, Any], **_: Any) -> None:
        for config in parsed.get("Functions", []):
            if config["FunctionName"] == "images":
                config["Architectures"] = ["riscv64"]

    account.client("lambda").meta.events.register(
        "after-call.lambda.ListFunctions", future_architecture
    )
    fleet = scan_region(account, _options(scan_packages=False))
    assert sorted(fn.name for fn in fleet.functions) == ["idle", "orders", "secret"]
    assert fleet.errors == {
        "images": "tunebot could not interpret the configuration of images: ValueError."
    }


def test_named_function_throttled_past_retries_is_an_error_entry(account: AwsSession) -> None:
    deny_for(account, "lambda", "GetFunction", "orders", "TooManyRequestsException")
    fleet = scan_region(account, _options(function_names=("orders", "images"), scan_packages=False))
    assert [fn.name for fn in fleet.functions] == ["images"]
    assert fleet.errors == {
        "orders": "AWS kept throttling the request to read the function; try again later."
    }


def test_logs_denied_for_one_function_leave_its_log_figures_unknown(account: AwsSession) -> None:
    def deny_orders_logs(params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body", b"")
        body = body if isinstance(body, bytes) else str(body).encode()
        if b'"/aws/lambda/orders"' in body:
            return _error_response("AccessDeniedException", "no logs:FilterLogEvents", 400)
        return None

    account.client("logs").meta.events.register(
        "before-call.cloudwatch-logs.FilterLogEvents", deny_orders_logs
    )
    fleet = scan_region(account, _options(scan_packages=False))
    orders = next(fn for fn in fleet.functions if fn.name == "orders")
    assert "orders" not in fleet.errors
    assert orders.stats is not None
    assert orders.stats.invocations == 1500
    assert orders.stats.log_sample_invocations is None
    images = next(fn for fn in fleet.functions if fn.name == "images")
    assert images.stats is not None and images.stats.log_sample_invocations == 1


def test_insights_reads_the_last_week_and_a_denied_group_costs_only_its_function(
    account: AwsSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """moto has no Logs Insights: the runner (tested with Stubber in test_insights.py) is
    replaced by one that answers for orders and reports images' log group as denied."""
    seen: list[tuple[datetime, datetime]] = []

    def run(
        self: InsightsRunner,
        log_groups: Any,
        start: datetime,
        end: datetime,
        *,
        source_prefix: str | None = None,
    ) -> InsightsResult:
        if self._query is ERROR_TYPES_QUERY:  # the second query, for error types: none here
            return InsightsResult(stats={})
        seen.append((start, end))
        return InsightsResult(
            stats={"/aws/lambda/orders": LogStats(sample_size=700, max_memory_used_mb=500)},
            failed={"/aws/lambda/images"},
            denied={"/aws/lambda/images": "Access denied: no logs:StartQuery."},
        )

    monkeypatch.setattr(InsightsRunner, "run", run)
    with caplog.at_level("WARNING", logger="aws.scan"):
        fleet = scan_region(account, _options(scan_packages=False))
    assert seen == [(NOW - timedelta(days=7), NOW)]
    assert fleet.window_days == 14
    functions = {fn.name: fn for fn in fleet.functions}
    orders_stats = functions["orders"].stats
    assert orders_stats is not None
    assert (orders_stats.log_sample_invocations, orders_stats.max_memory_used_mb) == (700, 500)
    images_stats = functions["images"].stats
    assert images_stats is not None
    assert images_stats.invocations == 1500
    assert images_stats.log_sample_invocations is None  # not sampled: Insights answered
    assert (
        "The log figures of images are unknown: tunebot may not query its log group "
        "/aws/lambda/images with Logs Insights"
    ) in caplog.text


def test_a_short_window_is_read_whole_from_the_logs() -> None:
    options = ScanOptions(window_days=3, now=NOW)
    start, end = options.window()
    assert options.log_start(start, end) == start


LOGGED = LogStats(
    sample_size=400,
    billed_duration_avg_ms=210.0,
    duration_p50_ms=190.0,
    duration_p90_ms=230.0,
    duration_p99_ms=480.0,
)


def test_cloudwatch_percentiles_win_over_the_logs() -> None:
    figures = {"invocations": 9000.0, "duration_p50_ms": 200.0}
    figures |= {"duration_p90_ms": 250.0, "duration_p99_ms": 500.0}
    stats = stats_for_function(14.0, figures, LOGGED)
    assert (stats.duration_p50_ms, stats.duration_p90_ms, stats.duration_p99_ms) == (
        200.0,
        250.0,
        500.0,
    )
    assert stats.duration_percentiles_source is FigureSource.METRICS
    assert stats.log_sample_invocations == 400


def test_missing_cloudwatch_percentiles_all_come_from_the_logs() -> None:
    # A function with too few datapoints may get p50 but not p99: no mixing of sources.
    stats = stats_for_function(14.0, {"invocations": 30.0, "duration_p50_ms": 200.0}, LOGGED)
    assert (stats.duration_p50_ms, stats.duration_p90_ms, stats.duration_p99_ms) == (
        190.0,
        230.0,
        480.0,
    )
    assert stats.duration_percentiles_source is FigureSource.LOGS


def test_no_percentiles_anywhere_stay_unknown() -> None:
    stats = stats_for_function(14.0, {"invocations": 30.0}, LogStats(sample_size=0))
    assert (stats.duration_p50_ms, stats.duration_percentiles_source) == (None, None)
    assert stats_for_function(14.0, {}, None).duration_p99_ms is None

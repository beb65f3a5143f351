"""Inventory: configuration mapping, pagination, layers, provisioned concurrency, policies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.server import ThreadedMotoServer

from aws.inventory import (
    Enrichment,
    fetch_layers,
    fetch_provisioned,
    fetch_tags,
    invoke_sources_from_policy,
    list_function_configs,
    log_group_of,
    mapping_from_api,
    parse_queue_attributes,
    queue_url_from_arn,
    read_function,
    snapshot_from_config,
    unqualified_arn,
)
from aws.session import AwsSession
from fakes.scan_seed import create_function, create_role, python_zip
from recommendations.snapshot import (
    Architecture,
    EventSourceKind,
    InvokeSource,
    Layer,
    LogFormat,
    LogLevel,
    PackageType,
    ProvisionedConcurrencyConfig,
    ProvisionedConcurrencyStatus,
    RedrivePolicy,
    TracingMode,
    VpcConfig,
)

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:checkout"
REFUNDS_ARN = ARN.replace("checkout", "refunds")
LAYER = "arn:aws:lambda:eu-west-1:123456789012:layer:pandas:7"

# A ListFunctions entry as AWS returns it for a JSON-logging SnapStart Java function.
CONFIG: dict[str, Any] = {
    "FunctionName": "checkout",
    "FunctionArn": ARN,
    "Runtime": "java21",
    "Role": "arn:aws:iam::123456789012:role/checkout",
    "Handler": "shop.Handler::handleRequest",
    "CodeSize": 23_456_789,
    "Timeout": 29,
    "MemorySize": 2048,
    "LastModified": "2026-10-01T09:30:12.000+0000",
    "CodeSha256": "abc=",
    "Version": "$LATEST",
    "VpcConfig": {
        "SubnetIds": ["subnet-1", "subnet-2"],
        "SecurityGroupIds": ["sg-1"],
        "VpcId": "vpc-1",
    },
    "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:eu-west-1:123456789012:checkout-dlq"},
    "RevisionId": "b0c1-rev",
    "Layers": [{"Arn": LAYER, "CodeSize": 40_000_000}],
    "PackageType": "Zip",
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 1024},
    "SnapStart": {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"},
    "LoggingConfig": {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "WARN",
        "LogGroup": "/shop/checkout",
    },
    "TracingConfig": {"Mode": "Active"},
}


def test_snapshot_from_config_maps_every_field() -> None:
    extra = Enrichment(
        tags={ARN: {"aws:cloudformation:stack-name": "shop", "env": "prod"}},
        layers={LAYER: Layer(arn=LAYER, compatible_architectures=(Architecture.X86_64,))},
        provisioned={ARN: (ProvisionedConcurrencyConfig(qualifier="live", requested=5),)},
        invoked_by={ARN: (InvokeSource.API_GATEWAY,)},
    )
    snapshot = snapshot_from_config(CONFIG, region="eu-west-1", enrichment=extra)
    assert snapshot.name == "checkout"
    assert snapshot.account_id == "123456789012"
    assert (snapshot.memory_mb, snapshot.timeout_s, snapshot.ephemeral_storage_mb) == (
        2048,
        29,
        1024,
    )
    assert snapshot.runtime == "java21"
    assert snapshot.package_type is PackageType.ZIP
    assert snapshot.last_modified == datetime(2026, 10, 1, 9, 30, 12, tzinfo=UTC)
    assert snapshot.revision_id == "b0c1-rev"
    assert snapshot.vpc == VpcConfig(
        subnet_ids=("subnet-1", "subnet-2"), security_group_ids=("sg-1",)
    )
    assert snapshot.dead_letter_target_arn == "arn:aws:sqs:eu-west-1:123456789012:checkout-dlq"
    assert snapshot.log_format is LogFormat.JSON
    assert snapshot.application_log_level is LogLevel.INFO
    assert snapshot.system_log_level is LogLevel.WARN
    assert not snapshot.writes_report_lines
    assert (snapshot.log_group, snapshot.log_group_name) == ("/shop/checkout", "/shop/checkout")
    assert snapshot.tracing_mode is TracingMode.ACTIVE
    assert snapshot.snap_start
    assert snapshot.cloudformation_stack == "shop"
    assert snapshot.layers == (Layer(arn=LAYER, compatible_architectures=(Architecture.X86_64,)),)
    assert (snapshot.provisioned_concurrency, snapshot.provisioned_concurrency_qualifier) == (
        5,
        "live",
    )
    assert snapshot.invoked_by == (InvokeSource.API_GATEWAY,)
    assert snapshot.stats is None
    assert log_group_of(CONFIG) == "/shop/checkout"


def test_unknown_layers_keep_their_listed_size() -> None:
    snapshot = snapshot_from_config(CONFIG, region="eu-west-1")
    assert snapshot.layers == (Layer(arn=LAYER, code_size_bytes=40_000_000),)
    assert snapshot.provisioned_concurrency is None
    assert snapshot.invoked_by is None


def test_unqualified_arn() -> None:
    assert unqualified_arn(f"{ARN}:live") == ARN
    assert unqualified_arn(ARN) == ARN


def test_list_functions_follows_pages() -> None:
    session = AwsSession(region="eu-west-1")
    second = {
        **CONFIG,
        "FunctionName": "refunds",
        "FunctionArn": ARN.replace("checkout", "refunds"),
    }
    with Stubber(session.client("lambda")) as stub:
        stub.add_response(
            "list_functions", {"Functions": [CONFIG], "NextMarker": "page-2"}, {"MaxItems": 50}
        )
        stub.add_response(
            "list_functions", {"Functions": [second]}, {"MaxItems": 50, "Marker": "page-2"}
        )
        configs = list_function_configs(session)
        stub.assert_no_pending_responses()
    assert [config["FunctionName"] for config in configs] == ["checkout", "refunds"]


def test_tags_in_bulk_follow_pages() -> None:
    session = AwsSession(region="eu-west-1")
    expected = {"ResourceTypeFilters": ["lambda:function"], "ResourcesPerPage": 100}
    with Stubber(session.client("resourcegroupstaggingapi")) as stub:
        stub.add_response(
            "get_resources",
            {
                "PaginationToken": "next",
                "ResourceTagMappingList": [
                    {"ResourceARN": ARN, "Tags": [{"Key": "team", "Value": "shop"}]}
                ],
            },
            expected,
        )
        stub.add_response(
            "get_resources",
            {
                "PaginationToken": "",
                "ResourceTagMappingList": [
                    {"ResourceARN": REFUNDS_ARN, "Tags": [{"Key": "team", "Value": "payments"}]}
                ],
            },
            {**expected, "PaginationToken": "next"},
        )
        tags = fetch_tags(session)
        stub.assert_no_pending_responses()
    assert tags == {ARN: {"team": "shop"}, REFUNDS_ARN: {"team": "payments"}}


def test_layers_once_per_version() -> None:
    session = AwsSession(region="eu-west-1")
    warnings: list[str] = []
    with Stubber(session.client("lambda")) as stub:
        stub.add_response(
            "get_layer_version_by_arn",
            {
                "Content": {"CodeSize": 40_000_000, "CodeSha256": "x"},
                "LayerArn": LAYER.rsplit(":", 1)[0],
                "LayerVersionArn": LAYER,
                "Version": 7,
                "CompatibleRuntimes": ["python3.11", "python3.12"],
                "CompatibleArchitectures": ["x86_64"],
            },
            {"Arn": LAYER},
        )
        layers = fetch_layers(session, [LAYER, LAYER], warnings)
        stub.assert_no_pending_responses()
    assert layers == {
        LAYER: Layer(
            arn=LAYER,
            code_size_bytes=40_000_000,
            compatible_architectures=(Architecture.X86_64,),
            compatible_runtimes=("python3.11", "python3.12"),
        )
    }
    assert warnings == []


def test_layer_read_denied_is_a_warning() -> None:
    session = AwsSession(region="eu-west-1")
    warnings: list[str] = []
    with Stubber(session.client("lambda")) as stub:
        stub.add_client_error(
            "get_layer_version_by_arn", "AccessDeniedException", "cross-account layer"
        )
        assert fetch_layers(session, [LAYER], warnings) == {}
    assert warnings == [
        f"Access denied: the credentials may not read the layer {LAYER} (cross-account layer)."
    ]


def test_provisioned_concurrency_over_qualifiers() -> None:
    session = AwsSession(region="eu-west-1")
    with Stubber(session.client("lambda")) as stub:
        stub.add_response(
            "list_provisioned_concurrency_configs",
            {
                "ProvisionedConcurrencyConfigs": [
                    {
                        "FunctionArn": f"{ARN}:live",
                        "RequestedProvisionedConcurrentExecutions": 10,
                        "AvailableProvisionedConcurrentExecutions": 10,
                        "AllocatedProvisionedConcurrentExecutions": 10,
                        "Status": "READY",
                    },
                    {
                        "FunctionArn": f"{ARN}:canary",
                        "RequestedProvisionedConcurrentExecutions": 2,
                        "Status": "IN_PROGRESS",
                    },
                ]
            },
            {"FunctionName": "checkout"},
        )
        configs = fetch_provisioned(session, "checkout")
    # Per qualifier, sorted; the canary's allocation is still in progress (none allocated).
    assert configs == (
        ProvisionedConcurrencyConfig(
            qualifier="canary", requested=2, status=ProvisionedConcurrencyStatus.IN_PROGRESS
        ),
        ProvisionedConcurrencyConfig(
            qualifier="live", requested=10, allocated=10, status=ProvisionedConcurrencyStatus.READY
        ),
    )
    snapshot = snapshot_from_config(
        CONFIG, region="eu-west-1", enrichment=Enrichment(provisioned={ARN: configs})
    )
    assert snapshot.provisioned_config("live") == configs[1]
    assert snapshot.provisioned_config("prod") is None
    # The total is what is warm: 10 allocated on live, and the canary's 2 as requested.
    assert (snapshot.provisioned_concurrency, snapshot.provisioned_concurrency_qualifier) == (
        12,
        "live",
    )


def test_mapping_and_queue_attributes() -> None:
    queue_arn = "arn:aws:sqs:eu-west-1:123456789012:orders.fifo"
    queue = parse_queue_attributes(
        {
            "VisibilityTimeout": "30",
            "FifoQueue": "true",
            "RedrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:dlq.fifo",'
            '"maxReceiveCount":"3"}',
        },
        queue_arn,
    )
    mapping = mapping_from_api(
        {
            "UUID": "u-1",
            "EventSourceArn": queue_arn,
            "FunctionArn": ARN,
            "State": "Enabled",
            "BatchSize": 10,
            "MaximumBatchingWindowInSeconds": 0,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 5},
        },
        queue,
    )
    assert mapping.kind is EventSourceKind.SQS
    assert mapping.reports_batch_item_failures
    assert mapping.maximum_concurrency == 5
    assert mapping.queue_is_fifo is True
    assert mapping.queue_visibility_timeout_s == 30
    assert mapping.queue_redrive_policy == RedrivePolicy(
        dead_letter_target_arn="arn:aws:sqs:eu-west-1:123456789012:dlq.fifo", max_receive_count=3
    )
    assert (
        queue_url_from_arn(queue_arn)
        == "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"
    )


def test_stream_mapping_fields() -> None:
    mapping = mapping_from_api(
        {
            "UUID": "u-2",
            "EventSourceArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks",
            "BatchSize": 100,
            "MaximumRetryAttempts": -1,
            "MaximumRecordAgeInSeconds": -1,
            "BisectBatchOnFunctionError": False,
            "ParallelizationFactor": 1,
            "DestinationConfig": {"OnFailure": {}},
        },
        None,
    )
    assert mapping.kind is EventSourceKind.KINESIS
    assert mapping.retries_forever
    assert mapping.on_failure_destination is None
    assert mapping.queue_is_fifo is None


def test_invoke_sources_from_resource_policy() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "apigw",
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": ARN,
            },
            {
                "Sid": "url",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "lambda:InvokeFunctionUrl",
                "Resource": ARN,
            },
            {
                "Sid": "s3",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
            },
            {
                "Sid": "other-account",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": "lambda:InvokeFunction",
            },
        ],
    }
    assert invoke_sources_from_policy(json.dumps(policy)) == (
        InvokeSource.API_GATEWAY,
        InvokeSource.FUNCTION_URL,
        InvokeSource.S3,
        InvokeSource.DIRECT,
    )
    assert invoke_sources_from_policy("not json") == ()


@mock_aws
def test_read_function_single_path() -> None:
    session = AwsSession(region="us-east-1")
    lam = session.client("lambda")
    role = create_role(session.client("iam"))
    create_function(lam, "api", role=role, code=python_zip(), memory=512, tags={"env": "prod"})
    lam.put_function_concurrency(FunctionName="api", ReservedConcurrentExecutions=25)
    lam.add_permission(
        FunctionName="api",
        StatementId="apigw",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )
    snapshot, config = read_function("api", session)
    assert snapshot.name == "api"
    assert snapshot.memory_mb == 512
    assert snapshot.tags == {"env": "prod"}
    assert snapshot.reserved_concurrency == 25
    assert snapshot.invoked_by == (InvokeSource.API_GATEWAY,)
    assert snapshot.async_config is None
    assert config["FunctionName"] == "api"


def _publish_layers(client: Any) -> list[str]:
    arns = []
    for name, architectures in (("native-libs", ["x86_64"]), ("both", ["x86_64", "arm64"])):
        response = client.publish_layer_version(
            LayerName=name,
            Content={"ZipFile": python_zip(name)},
            CompatibleArchitectures=architectures,
            CompatibleRuntimes=["python3.12"],
        )
        arns.append(str(response["LayerVersionArn"]))
    return arns


def _expected_layers(arns: list[str]) -> dict[str, tuple[Architecture, ...] | None]:
    return {
        arns[0]: (Architecture.X86_64,),
        arns[1]: (Architecture.X86_64, Architecture.ARM64),
    }


@mock_aws
def test_layers_without_get_layer_version_by_arn_in_process() -> None:
    # moto lacks GetLayerVersionByArn (in-process it raises NotImplementedError).
    session = AwsSession(region="us-east-1")
    arns = _publish_layers(session.client("lambda"))
    warnings: list[str] = []
    layers = fetch_layers(session, arns, warnings)
    assert {arn: layer.compatible_architectures for arn, layer in layers.items()} == (
        _expected_layers(arns)
    )
    assert all(layer.compatible_runtimes == ("python3.12",) for layer in layers.values())
    assert warnings == []


def test_layers_without_get_layer_version_by_arn_on_a_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a server (the sandbox), moto answers the missing operation with an HTML 500 page.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        session = AwsSession(region="us-east-1", max_attempts=1)
        arns = _publish_layers(session.client("lambda"))
        warnings: list[str] = []
        layers = fetch_layers(session, arns, warnings)
    finally:
        server.stop()
    assert {arn: layer.compatible_architectures for arn, layer in layers.items()} == (
        _expected_layers(arns)
    )
    assert warnings == []


def test_fallback_is_decided_once_per_scan() -> None:
    session = AwsSession(region="eu-west-1")
    other = LAYER.replace("pandas:7", "numpy:3")
    warnings: list[str] = []
    with Stubber(session.client("lambda")) as stub:
        stub.add_client_error("get_layer_version_by_arn", "501", "", http_status_code=501)
        for arn, version in ((other, 3), (LAYER, 7)):
            stub.add_response(
                "get_layer_version",
                {
                    "Content": {"CodeSize": 1000},
                    "LayerVersionArn": arn,
                    "Version": version,
                    "CompatibleArchitectures": ["arm64"],
                },
                {"LayerName": arn.rsplit(":", 1)[0], "VersionNumber": version},
            )
        layers = fetch_layers(session, [LAYER, other], warnings)
        stub.assert_no_pending_responses()
    assert sorted(layers) == sorted([LAYER, other])
    assert layers[LAYER].compatible_architectures == (Architecture.ARM64,)
    assert warnings == []


def test_an_error_that_is_not_a_missing_operation_does_not_fall_back() -> None:
    session = AwsSession(region="eu-west-1", max_attempts=1)
    warnings: list[str] = []
    with Stubber(session.client("lambda")) as stub:
        stub.add_client_error("get_layer_version_by_arn", "ResourceNotFoundException", "gone")
        assert fetch_layers(session, [LAYER], warnings) == {}
        stub.assert_no_pending_responses()
    assert len(warnings) == 1 and LAYER in warnings[0]

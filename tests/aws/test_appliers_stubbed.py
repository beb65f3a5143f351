"""What moto cannot show, with botocore's Stubber and realistic responses: RevisionId guards and
conflicts, throttling, the architecture re-deploy, provisioned concurrency, waiter failures."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aws.appliers.base import ApplyContext, code_sha256, download_package
from aws.appliers.errors import (
    ChangeError,
    ChangeNotPossibleError,
    ChangeVerificationError,
    StaleChangeError,
    ThrottledError,
)
from aws.appliers.event_source_mapping import aws_parameters
from aws.appliers.event_source_mapping import settings_from_aws as mapping_settings
from aws.appliers.registry import apply_change
from recommendations.changes import (
    ArchitectureChange,
    AsyncFailureDestinationChange,
    AsyncSettings,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    MemoryChange,
    ProvisionedConcurrencyChange,
)
from recommendations.snapshot import Architecture
from tests.aws.change_helpers import client_error, function_arn, zip_bytes

NAME = "checkout-api"
ARN = function_arn(NAME)
PACKAGE = zip_bytes()
LOCATION = "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/snapshots/x?sig=1"


def _meta(request_id: str) -> dict[str, Any]:
    return {"RequestId": request_id, "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}


def _configuration(**overrides: Any) -> dict[str, Any]:
    """A GetFunctionConfiguration response as AWS returns it (trimmed to what matters)."""
    config: dict[str, Any] = {
        "FunctionName": NAME,
        "FunctionArn": ARN,
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::123456789012:role/checkout-api-role",
        "Handler": "app.handler",
        "CodeSize": len(PACKAGE),
        "CodeSha256": code_sha256(PACKAGE),
        "MemorySize": 1024,
        "Timeout": 30,
        "LastModified": "2026-11-20T10:00:00.000+0000",
        "Version": "$LATEST",
        "RevisionId": "8f1e2b6c-0000-4000-8000-000000000001",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "ResponseMetadata": _meta("req-config"),
    }
    config.update(overrides)
    return config


def _get_function(**overrides: Any) -> dict[str, Any]:
    config = _configuration(**overrides)
    meta = config.pop("ResponseMetadata")
    return {
        "Configuration": config,
        "Code": {"RepositoryType": "S3", "Location": LOCATION},
        "ResponseMetadata": meta,
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[ApplyContext, Stubber]]:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        context = ApplyContext(
            client,
            fetch_package=lambda url: PACKAGE if url == LOCATION else b"",
            sleep=lambda seconds: None,
            waiter_delay_s=1,
            waiter_max_attempts=2,
        )
        yield context, stubber
        stubber.assert_no_pending_responses()


def test_memory_update_carries_the_revision_it_read(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration(), {"FunctionName": NAME})
    stubber.add_response(
        "update_function_configuration",
        _configuration(MemorySize=512, LastUpdateStatus="InProgress"),
        {
            "FunctionName": NAME,
            "MemorySize": 512,
            "RevisionId": "8f1e2b6c-0000-4000-8000-000000000001",
        },
    )
    stubber.add_response("get_function", _get_function(MemorySize=512), {"FunctionName": NAME})
    stubber.add_response(
        "get_function_configuration",
        _configuration(MemorySize=512, RevisionId="rev-2", ResponseMetadata=_meta("req-after")),
        {"FunctionName": NAME},
    )
    outcome = apply_change(
        MemoryChange(function_name=NAME, before=1024, after=512),
        context,
        expected_revision_id="8f1e2b6c-0000-4000-8000-000000000001",
    )
    assert outcome.revision_id == "rev-2"
    assert outcome.request_ids == ("req-config", "req-config", "req-after")


def test_moved_revision_is_stale_before_any_update(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration(RevisionId="rev-new"))
    with pytest.raises(StaleChangeError, match="its revision moved"):
        apply_change(
            MemoryChange(function_name=NAME, before=1024, after=512),
            context,
            expected_revision_id="rev-old",
        )


def test_revision_conflict_on_update_is_stale(stubbed) -> None:  # type: ignore[no-untyped-def]
    """AWS answers a RevisionId that moved with 412 PreconditionFailedException (Lambda API
    reference, UpdateFunctionConfiguration errors); ResourceConflictException (409, an update
    in progress) is not staleness, see tests/aws/test_appliers_busy.py."""
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration())
    stubber.add_client_error(
        "update_function_configuration",
        **client_error(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id",
            412,
        ),
    )
    with pytest.raises(StaleChangeError) as raised:
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert str(raised.value) == (
        "Could not update the memory of checkout-api: it was changed by someone else since "
        "tunebot read it; nothing was changed, re-run the analysis and try again."
    )


def test_throttling_is_a_retryable_error(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_client_error(
        "get_function_configuration",
        **client_error("TooManyRequestsException", "Rate exceeded", 429),
    )
    with pytest.raises(ThrottledError) as raised:
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert raised.value.retryable
    assert str(raised.value) == (
        "Could not read the configuration of checkout-api: AWS is throttling requests; "
        "try again shortly."
    )


def test_an_update_in_progress_is_not_touched(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    for _ in range(len(context.busy_retry_delays_s) + 1):
        stubber.add_response(
            "get_function_configuration", _configuration(LastUpdateStatus="InProgress")
        )
    with pytest.raises(ChangeError, match="is being updated right now") as raised:
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert raised.value.retryable


def test_failed_update_reports_lambdas_reason(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration())
    stubber.add_response(
        "update_function_configuration", _configuration(LastUpdateStatus="InProgress")
    )
    stubber.add_response(
        "get_function",
        _get_function(LastUpdateStatus="Failed", LastUpdateStatusReason="ENI limit reached"),
    )
    with pytest.raises(ChangeError) as raised:
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert str(raised.value) == (
        "The update of checkout-api did not finish successfully (ENI limit reached); "
        "check the function in the Lambda console."
    )


def test_read_back_mismatch_is_reported(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration())
    stubber.add_response("update_function_configuration", _configuration())
    stubber.add_response("get_function", _get_function())
    stubber.add_response("get_function_configuration", _configuration(MemorySize=1024))
    with pytest.raises(ChangeVerificationError, match="reads 1024 MB instead of 512 MB"):
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)


ARM = ArchitectureChange(function_name=NAME, before=Architecture.X86_64, after=Architecture.ARM64)


def test_architecture_redeploys_the_same_package_with_architectures(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function", _get_function(), {"FunctionName": NAME})
    stubber.add_response(
        "update_function_code",
        _configuration(Architectures=["arm64"], LastUpdateStatus="InProgress"),
        {
            "FunctionName": NAME,
            "ZipFile": PACKAGE,
            "Architectures": ["arm64"],
            "RevisionId": "8f1e2b6c-0000-4000-8000-000000000001",
            "Publish": False,
        },
    )
    stubber.add_response("get_function", _get_function(Architectures=["arm64"]))
    stubber.add_response("get_function_configuration", _configuration(Architectures=["arm64"]))
    outcome = apply_change(ARM, context)
    assert outcome.change == ARM
    assert outcome.notes == (
        "Published versions and aliases keep their architecture; only $LATEST changed.",
    )


def test_architecture_refuses_container_images(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function", _get_function(PackageType="Image"))
    with pytest.raises(ChangeNotPossibleError, match="deployed as a container image"):
        apply_change(ARM, context)


def test_architecture_refuses_a_package_that_does_not_match(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function", _get_function(CodeSha256="somethingelse="))
    with pytest.raises(ChangeError, match="does not match its CodeSha256; nothing was changed"):
        apply_change(ARM, context)


def test_architecture_is_stale_when_already_switched(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function", _get_function(Architectures=["arm64"]))
    with pytest.raises(StaleChangeError, match="runs on arm64 now"):
        apply_change(ARM, context)


def test_provisioned_concurrency_set_from_none(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_client_error(
        "get_provisioned_concurrency_config",
        **client_error("ProvisionedConcurrencyConfigNotFoundException", "No config", 404),
        expected_params={"FunctionName": NAME, "Qualifier": "live"},
    )
    stubber.add_response(
        "put_provisioned_concurrency_config",
        {
            "RequestedProvisionedConcurrentExecutions": 5,
            "Status": "IN_PROGRESS",
            "ResponseMetadata": _meta("req-put"),
        },
        {"FunctionName": NAME, "Qualifier": "live", "ProvisionedConcurrentExecutions": 5},
    )
    stubber.add_response(
        "get_provisioned_concurrency_config",
        {
            "RequestedProvisionedConcurrentExecutions": 5,
            "AvailableProvisionedConcurrentExecutions": 0,
            "AllocatedProvisionedConcurrentExecutions": 0,
            "Status": "IN_PROGRESS",
            "ResponseMetadata": _meta("req-get"),
        },
    )
    change = ProvisionedConcurrencyChange(function_name=NAME, qualifier="live", before=0, after=5)
    outcome = apply_change(change, context)
    assert outcome.request_ids == ("req-put", "req-get")
    assert outcome.notes == ("Lambda allocates provisioned concurrency over a few minutes.",)


def test_provisioned_concurrency_removed_and_stale(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    current = {"RequestedProvisionedConcurrentExecutions": 5, "Status": "READY"}
    stubber.add_response("get_provisioned_concurrency_config", current)
    stubber.add_response(
        "delete_provisioned_concurrency_config", {}, {"FunctionName": NAME, "Qualifier": "live"}
    )
    stubber.add_client_error(
        "get_provisioned_concurrency_config",
        **client_error("ProvisionedConcurrencyConfigNotFoundException", "No config", 404),
    )
    apply_change(
        ProvisionedConcurrencyChange(function_name=NAME, qualifier="live", before=5, after=0),
        context,
    )
    stubber.add_response("get_provisioned_concurrency_config", current)
    with pytest.raises(StaleChangeError, match=r"checkout-api:live is 5 now, not 10"):
        apply_change(
            ProvisionedConcurrencyChange(function_name=NAME, qualifier="live", before=10, after=0),
            context,
        )


def test_access_denied_is_one_sentence(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_client_error(
        "get_function_configuration",
        **client_error(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: "
            "lambda:GetFunctionConfiguration",
            403,
        ),
    )
    with pytest.raises(ChangeError) as raised:
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert str(raised.value).startswith(
        "Could not read the configuration of checkout-api: access denied (User: "
    )


class _PackageHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_download_package_reads_with_a_size_cap() -> None:
    _PackageHandler.body = PACKAGE
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PackageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/package.zip"
        assert download_package(url) == PACKAGE
        _PackageHandler.body = bytes(1024 * 1024 + 1)
        with pytest.raises(ChangeNotPossibleError, match="larger than 1 MB"):
            download_package(url, max_bytes=1024 * 1024)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ChangeNotPossibleError, match="not a download URL"):
        download_package("file:///etc/passwd")


QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:checkout-api-failed"
NO_PERMISSION = (
    "The function execution role does not have permissions to call SendMessage on " + QUEUE_ARN
)


def _invoke_config(destination: str | None, retries: int = 2) -> dict[str, Any]:
    config: dict[str, Any] = {
        "FunctionArn": ARN + ":$LATEST",
        "MaximumRetryAttempts": retries,
        "MaximumEventAgeInSeconds": 21600,
        "DestinationConfig": {"OnSuccess": {}, "OnFailure": {}},
    }
    if destination:
        config["DestinationConfig"]["OnFailure"] = {"Destination": destination}
    return config


DESTINATION = AsyncFailureDestinationChange(
    function_name=NAME,
    before=AsyncSettings(),
    after=AsyncSettings(on_failure_destination=QUEUE_ARN, maximum_retry_attempts=1),
)


def test_destination_without_permission_says_what_to_grant(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_client_error(
        "get_function_event_invoke_config",
        **client_error("ResourceNotFoundException", "The function has no config", 404),
    )
    stubber.add_client_error(
        "put_function_event_invoke_config",
        **client_error("InvalidParameterValueException", NO_PERMISSION),
    )
    with pytest.raises(ChangeError) as raised:
        apply_change(DESTINATION, context)
    assert str(raised.value) == (
        "Could not set the async settings of checkout-api: the function's execution role may "
        f"not send to {QUEUE_ARN}; grant it sqs:SendMessage on that queue and apply again."
    )


def test_destination_with_iam_allowed_grants_and_waits_for_propagation() -> None:
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    slept: list[float] = []
    context = ApplyContext(
        lambda_client, iam_client=iam, allow_iam_changes=True, sleep=slept.append
    )
    with Stubber(lambda_client) as lambdas, Stubber(iam) as iams:
        lambdas.add_client_error(
            "get_function_event_invoke_config",
            **client_error("ResourceNotFoundException", "The function has no config", 404),
        )
        lambdas.add_response("get_function_configuration", _configuration())
        iams.add_response(
            "put_role_policy",
            {},
            {
                "RoleName": "checkout-api-role",
                "PolicyName": "tunebot-failure-destination-checkout-api-failed",
                "PolicyDocument": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}
                        ],
                    }
                ),
            },
        )
        lambdas.add_client_error(
            "put_function_event_invoke_config",
            **client_error("InvalidParameterValueException", NO_PERMISSION),
        )
        lambdas.add_response(
            "put_function_event_invoke_config",
            _invoke_config(QUEUE_ARN, retries=1),
            {
                "FunctionName": NAME,
                "MaximumRetryAttempts": 1,
                "MaximumEventAgeInSeconds": 21600,
                "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
            },
        )
        lambdas.add_response("get_function_event_invoke_config", _invoke_config(QUEUE_ARN, 1))
        outcome = apply_change(DESTINATION, context)
        lambdas.assert_no_pending_responses()
        iams.assert_no_pending_responses()
    assert slept == [5.0]
    assert outcome.notes == ("Granted sqs:SendMessage on the queue to the role checkout-api-role.",)


def test_destination_keeps_an_existing_on_success_destination(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    existing = _invoke_config(None)
    existing["DestinationConfig"]["OnSuccess"] = {"Destination": "arn:aws:sns:us-east-1:1:ok"}
    stubber.add_response("get_function_event_invoke_config", existing)
    stubber.add_response(
        "put_function_event_invoke_config",
        _invoke_config(QUEUE_ARN, retries=1),
        {
            "FunctionName": NAME,
            "MaximumRetryAttempts": 1,
            "MaximumEventAgeInSeconds": 21600,
            "DestinationConfig": {
                "OnFailure": {"Destination": QUEUE_ARN},
                "OnSuccess": {"Destination": "arn:aws:sns:us-east-1:1:ok"},
            },
        },
    )
    stubber.add_response("get_function_event_invoke_config", _invoke_config(QUEUE_ARN, 1))
    apply_change(DESTINATION, context)


def test_mapping_fields_map_to_aws_names() -> None:
    settings = EventSourceMappingSettings(
        batch_size=500,
        maximum_batching_window_s=None,
        report_batch_item_failures=False,
        maximum_retry_attempts=None,
        bisect_batch_on_function_error=True,
        on_failure_destination=None,
    )
    fields = (
        "batch_size",
        "maximum_batching_window_s",
        "report_batch_item_failures",
        "maximum_retry_attempts",
        "bisect_batch_on_function_error",
        "on_failure_destination",
    )
    assert aws_parameters(settings, fields) == {
        "BatchSize": 500,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "MaximumRetryAttempts": -1,
        "BisectBatchOnFunctionError": True,
        # AWS refuses an empty OnFailure ("The Destination field is required for an
        # OnFailure configuration"); the model allows "" (min length 0) to remove it.
        "DestinationConfig": {"OnFailure": {"Destination": ""}},
    }
    with_destination = settings.model_copy(update={"on_failure_destination": QUEUE_ARN})
    assert aws_parameters(with_destination, ("on_failure_destination",)) == {
        "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}}
    }


def test_stream_mapping_reads_minus_one_as_unlimited_retries() -> None:
    settings = mapping_settings(
        {
            "BatchSize": 100,
            "MaximumRetryAttempts": -1,
            "BisectBatchOnFunctionError": False,
            "DestinationConfig": {"OnFailure": {}},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
    )
    assert settings == EventSourceMappingSettings(
        batch_size=100,
        maximum_retry_attempts=None,
        bisect_batch_on_function_error=False,
        report_batch_item_failures=True,
    )


STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
STREAM_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:tunebot-checkout-api-clicks-failures"
MAPPING_UUID = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"


def _mapping(state: str = "Enabled", **overrides: Any) -> dict[str, Any]:
    """A GetEventSourceMapping response for a Kinesis trigger, as AWS documents it."""
    mapping: dict[str, Any] = {
        "UUID": MAPPING_UUID,
        "StartingPosition": "LATEST",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": STREAM_ARN,
        "FunctionArn": ARN,
        "LastModified": "2026-11-20T10:00:00+00:00",
        "LastProcessingResult": "No records processed",
        "State": state,
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "EventSourceMappingArn": (
            f"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:{MAPPING_UUID}"
        ),
        "ResponseMetadata": _meta(f"req-{state.lower()}"),
    }
    mapping.update(overrides)
    return mapping


def _bounded(state: str = "Enabled") -> dict[str, Any]:
    return _mapping(
        state,
        MaximumRetryAttempts=10,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": STREAM_QUEUE_ARN}},
    )


STREAM_CHANGE = EventSourceMappingChange(
    function_name=NAME,
    mapping_uuid=MAPPING_UUID,
    source_arn=STREAM_ARN,
    before=EventSourceMappingSettings(
        batch_size=100,
        maximum_batching_window_s=0,
        maximum_retry_attempts=-1,
        maximum_record_age_s=-1,
        bisect_batch_on_function_error=False,
    ),
    after=EventSourceMappingSettings(
        batch_size=100,
        maximum_batching_window_s=0,
        maximum_retry_attempts=10,
        maximum_record_age_s=-1,
        bisect_batch_on_function_error=True,
        on_failure_destination=STREAM_QUEUE_ARN,
    ),
)
STREAM_UPDATE = {
    "UUID": MAPPING_UUID,
    "MaximumRetryAttempts": 10,
    "BisectBatchOnFunctionError": True,
    "DestinationConfig": {"OnFailure": {"Destination": STREAM_QUEUE_ARN}},
}


def test_stream_update_waits_while_the_mapping_is_updating() -> None:
    """AWS applies mapping updates asynchronously (State Updating, then Enabled); moto answers
    Enabled at once, so only a stub shows the wait."""
    client = boto3.client("lambda", region_name="us-east-1")
    slept: list[float] = []
    context = ApplyContext(client, sleep=slept.append, waiter_delay_s=2, waiter_max_attempts=5)
    with Stubber(client) as stubber:
        stubber.add_response("get_event_source_mapping", _mapping(), {"UUID": MAPPING_UUID})
        stubber.add_response("update_event_source_mapping", _bounded("Updating"), STREAM_UPDATE)
        stubber.add_response("get_event_source_mapping", _bounded("Updating"))
        stubber.add_response("get_event_source_mapping", _bounded("Updating"))
        stubber.add_response("get_event_source_mapping", _bounded())
        outcome = apply_change(STREAM_CHANGE, context)
        stubber.assert_no_pending_responses()
    assert slept == [2.0, 2.0]
    assert outcome.request_ids == ("req-enabled", "req-updating", "req-enabled")
    assert outcome.notes == (
        f"The function's execution role needs sqs:SendMessage on {STREAM_QUEUE_ARN}; tunebot "
        "did not change IAM (IAM changes are not allowed by its configuration).",
    )


def test_stream_update_still_updating_after_the_wait_says_so() -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    context = ApplyContext(client, sleep=lambda s: None, waiter_max_attempts=2)
    with Stubber(client) as stubber:
        stubber.add_response("get_event_source_mapping", _mapping())
        stubber.add_response("update_event_source_mapping", _bounded("Updating"))
        stubber.add_response("get_event_source_mapping", _bounded("Updating"))
        stubber.add_response("get_event_source_mapping", _bounded("Updating"))
        outcome = apply_change(STREAM_CHANGE, context)
    assert outcome.notes[-1] == (
        "The clicks trigger was still updating when tunebot stopped watching; its settings "
        "already read as applied."
    )


def test_stream_destination_without_permission_says_what_to_grant(stubbed) -> None:  # type: ignore[no-untyped-def]
    """Whether AWS checks the role on UpdateEventSourceMapping or only when it delivers, a
    refusal that names the permission becomes one sentence saying what to grant."""
    context, stubber = stubbed
    stubber.add_response("get_event_source_mapping", _mapping())
    stubber.add_client_error(
        "update_event_source_mapping",
        **client_error(
            "InvalidParameterValueException",
            "The provided execution role does not have permissions to call SendMessage on SQS",
        ),
    )
    with pytest.raises(ChangeError) as raised:
        apply_change(STREAM_CHANGE, context)
    assert str(raised.value) == (
        "Could not update the clicks trigger of checkout-api: the function's execution role "
        f"may not send to {STREAM_QUEUE_ARN}; grant it sqs:SendMessage on that queue and "
        "apply again."
    )


def test_undoing_a_stream_destination_sends_an_empty_destination(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_event_source_mapping", _bounded())
    stubber.add_response(
        "update_event_source_mapping",
        _mapping(),
        {
            "UUID": MAPPING_UUID,
            "MaximumRetryAttempts": -1,
            "BisectBatchOnFunctionError": False,
            "DestinationConfig": {"OnFailure": {"Destination": ""}},
        },
    )
    stubber.add_response("get_event_source_mapping", _mapping())
    outcome = apply_change(STREAM_CHANGE.inverse(), context)
    assert outcome.notes == ("The previous destination queue was kept, with any records in it.",)


def test_provisioned_concurrency_read_without_a_connection_is_one_sentence() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Unreachable:
        def get_provisioned_concurrency_config(self, **kwargs: Any) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    change = ProvisionedConcurrencyChange(function_name=NAME, qualifier="live", before=5, after=0)
    with pytest.raises(ChangeError) as raised:
        apply_change(change, ApplyContext(Unreachable()))
    assert str(raised.value) == (
        "Could not read the provisioned concurrency of checkout-api:live: Could not connect to "
        'the endpoint URL: "https://lambda.us-east-1.amazonaws.com".'
    )


@pytest.mark.parametrize("failing", ["get_function_event_invoke_config", "put"])
def test_async_destination_without_a_connection_is_one_sentence(failing: str) -> None:
    from botocore.exceptions import EndpointConnectionError

    unreachable = EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    class Lambda:
        def get_function_event_invoke_config(self, **kwargs: Any) -> dict[str, Any]:
            if failing == "get_function_event_invoke_config":
                raise unreachable
            return _invoke_config(None)

        def put_function_event_invoke_config(self, **kwargs: Any) -> dict[str, Any]:
            raise unreachable

    change = AsyncFailureDestinationChange(
        function_name=NAME,
        before=AsyncSettings(),
        after=AsyncSettings(on_failure_destination="arn:aws:sns:us-east-1:123456789012:failed"),
    )
    with pytest.raises(ChangeError) as raised:
        apply_change(change, ApplyContext(Lambda()))
    doing = "read" if failing.startswith("get") else "set"
    assert str(raised.value) == (
        f"Could not {doing} the async settings of checkout-api: Could not connect to the "
        'endpoint URL: "https://lambda.us-east-1.amazonaws.com".'
    )


def test_losing_the_connection_while_waiting_is_one_sentence() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Waiter:
        def wait(self, **kwargs: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    class Lambda:
        def get_waiter(self, name: str) -> Waiter:
            assert name == "function_updated_v2"
            return Waiter()

    with pytest.raises(ChangeError) as raised:
        ApplyContext(Lambda()).wait_until_updated(ARN)
    assert str(raised.value) == (
        f"Could not confirm that the update of {ARN} finished: Could not connect to the "
        'endpoint URL: "https://lambda.us-east-1.amazonaws.com".'
    )

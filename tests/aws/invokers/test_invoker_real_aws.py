"""What real Lambda does and moto does not, for the benchmark invoker (botocore's Stubber).

Response shapes follow the Lambda API reference:

- ``PublishVersion``: "Lambda doesn't publish a version if the function's configuration and
  code haven't changed since the last version" — it returns the latest existing version
  (moto always mints a new one).
- ``ListVersionsByFunction``: ``{"Versions": [FunctionConfiguration, ...], "NextMarker"}``,
  ``$LATEST`` included.
- ``GetFunction`` of a function whose environment is encrypted with a customer managed key
  that the caller may not use: ``Configuration.KMSKeyArn`` set and ``Environment`` holding
  ``Error`` (``{"ErrorCode": "AccessDeniedException", ...}``) instead of ``Variables``;
  signed code: ``SigningProfileVersionArn``/``SigningJobArn``; a customer-encrypted package:
  ``Code.SourceKMSKeyArn``; SnapStart: ``SnapStart.ApplyOn = PublishedVersions``; EFS:
  ``FileSystemConfigs``; the runtime version: ``RuntimeVersionConfig.RuntimeVersionArn``.
- ``ResourceConflictException`` (409) while an update is in progress.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from aws.errors import ResourceBusyError
from aws.invokers.lambda_invoker import BenchmarkNotPossibleError, LambdaBenchmark
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Probe

X86 = Architecture.X86_64
ARN = "arn:aws:lambda:us-east-1:123456789012:function:checkout"
PYTHON_RUNTIME_VERSION = (
    "arn:aws:lambda:us-east-1::runtime:"
    "edb5a058bfa782cb9cedc6d534ac8b8c193bc28e9a9879d9f5ebaaf619cd0fc0"
)
NEWER_RUNTIME_VERSION = (
    "arn:aws:lambda:us-east-1::runtime:"
    "0c2c2b4a1ee1c1b7a2f8a6c0e3b0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1"
)


def _configuration(**overrides: Any) -> dict[str, Any]:
    configuration: dict[str, Any] = {
        "FunctionName": "checkout",
        "FunctionArn": ARN,
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::123456789012:role/checkout-role",
        "Handler": "app.handler",
        "CodeSize": 1024,
        "Timeout": 30,
        "MemorySize": 1024,
        "Architectures": ["x86_64"],
        "PackageType": "Zip",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "Version": "$LATEST",
    }
    configuration.update(overrides)
    return configuration


def _tail(memory: int) -> str:
    text = (
        "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: 7\n"
        "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\n"
        "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\tDuration: 50.0 ms\t"
        f"Billed Duration: 50 ms\tMemory Size: {memory} MB\tMax Memory Used: 56 MB\t\n"
    )
    return base64.b64encode(text.encode()).decode()


def _invoked(memory: int) -> dict[str, Any]:
    return {
        "StatusCode": 200,
        "LogResult": _tail(memory),
        "ExecutedVersion": "7",
        "Payload": StreamingBody(io.BytesIO(b"{}"), 2),
    }


@pytest.fixture
def client() -> Any:
    return boto3.client("lambda", region_name="us-east-1")


def _benchmark(client: Any, slept: list[float] | None = None, **kwargs: Any) -> LambdaBenchmark:
    return LambdaBenchmark(
        "checkout",
        client=client,
        code_fetcher=lambda url: b"PK-zip-bytes",
        sleep=(slept.append if slept is not None else lambda seconds: None),
        min_interval_s=0,
        **kwargs,
    )


def _start(stubber: Stubber, code: dict[str, Any] | None = None, **configuration: Any) -> None:
    stubber.add_response(
        "get_function",
        {
            "Configuration": _configuration(**configuration),
            "Code": code or {"RepositoryType": "S3", "Location": "https://example.com/code.zip"},
        },
        {"FunctionName": "checkout"},
    )


def _ready(stubber: Stubber, **configuration: Any) -> None:
    stubber.add_response(
        "get_function_configuration", _configuration(**configuration), {"FunctionName": ANY}
    )


def test_in_place_keeps_a_version_publish_version_returned_that_existed_already(
    client: Any,
) -> None:
    """$LATEST at 1024 MB equals the latest published version 7: PublishVersion answers "7"
    without publishing. Clean-up deletes the alias, never version 7 (a production version)."""
    with Stubber(client) as stubber:
        _start(stubber)
        # Setting the memory it already has changes nothing that PublishVersion compares.
        stubber.add_response(
            "update_function_configuration",
            _configuration(),
            {"FunctionName": "checkout", "MemorySize": 1024},
        )
        _ready(stubber)
        stubber.add_response(
            "list_versions_by_function",
            {
                "Versions": [_configuration(), _configuration(Version="6")],
                "NextMarker": "page-2",
            },
            {"FunctionName": "checkout"},
        )
        stubber.add_response(
            "list_versions_by_function",
            {"Versions": [_configuration(Version="7")]},
            {"FunctionName": "checkout", "Marker": "page-2"},
        )
        stubber.add_response("publish_version", _configuration(Version="7"), None)
        stubber.add_response(
            "get_function_configuration",
            _configuration(Version="7"),
            {"FunctionName": "checkout", "Qualifier": "7"},
        )
        stubber.add_response(
            "create_alias",
            {"Name": "tunebot-bench-1024mb", "FunctionVersion": "7"},
            {"FunctionName": "checkout", "Name": "tunebot-bench-1024mb", "FunctionVersion": "7"},
        )
        stubber.add_response("invoke", _invoked(1024), None)
        stubber.add_response(
            "delete_alias", {}, {"FunctionName": "checkout", "Name": "tunebot-bench-1024mb"}
        )
        # No delete_function: the Stubber fails on any call not queued here.
        with _benchmark(client, in_place=True) as benchmark:
            (observation,) = benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=1)])
        stubber.assert_no_pending_responses()
    assert observation.memory_mb == 1024


def test_busy_copy_updates_and_invocations_are_retried(client: Any) -> None:
    slept: list[float] = []
    busy = {
        "service_error_code": "ResourceConflictException",
        "service_message": f"The operation cannot be performed at this time. An update is in "
        f"progress for resource: {ARN}",
        "http_status_code": 409,
    }
    with Stubber(client) as stubber:
        _start(stubber)
        stubber.add_response("create_function", _configuration(State="Pending"), None)
        _ready(stubber)
        stubber.add_client_error("update_function_configuration", **busy)
        stubber.add_response("update_function_configuration", _configuration(MemorySize=512))
        _ready(stubber, MemorySize=512)
        stubber.add_client_error("invoke", **busy)
        stubber.add_response("invoke", _invoked(512), None)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with _benchmark(client, slept) as benchmark:
            benchmark.prepare(1024, X86)
            (observation,) = benchmark.invoke([Probe(memory_mb=512, architecture=X86, count=1)])
        stubber.assert_no_pending_responses()
    assert observation.memory_mb == 512
    assert slept == [0.5, 0.5]


def test_an_update_that_stays_in_progress_is_one_sentence(client: Any) -> None:
    busy = {
        "service_error_code": "ResourceConflictException",
        "service_message": "The operation cannot be performed at this time.",
        "http_status_code": 409,
    }
    slept: list[float] = []
    with Stubber(client) as stubber:
        _start(stubber)
        stubber.add_response("create_function", _configuration(State="Pending"), None)
        _ready(stubber)
        for _ in range(7):
            stubber.add_client_error("update_function_configuration", **busy)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with pytest.raises(ResourceBusyError) as raised, _benchmark(client, slept) as benchmark:
            benchmark.prepare(1024, X86)
            benchmark.prepare(512, X86)
        stubber.assert_no_pending_responses()
    assert "is being updated; try again in a minute." in str(raised.value)
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]


ENCRYPTED_ENVIRONMENT = {
    "Error": {
        "ErrorCode": "AccessDeniedException",
        "Message": "Lambda was unable to decrypt the environment variables because KMS "
        "access was denied.",
    }
}
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("configuration", "code", "says"),
    [
        (
            {"KMSKeyArn": KEY, "Environment": ENCRYPTED_ENVIRONMENT},
            None,
            "encrypted with a customer managed KMS key",
        ),
        (
            {
                "SigningProfileVersionArn": "arn:aws:signer:us-east-1:123456789012:"
                "/signing-profiles/checkout/abcdef1234",
                "SigningJobArn": "arn:aws:signer:us-east-1:123456789012:/signing-jobs/1a2b",
            },
            None,
            "is signed",
        ),
        (
            {},
            {
                "RepositoryType": "S3",
                "Location": "https://example.com/code.zip",
                "SourceKMSKeyArn": KEY,
            },
            "SourceKMSKeyArn",
        ),
        (
            {"SnapStart": {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}},
            None,
            "uses SnapStart",
        ),
    ],
)
def test_copy_mode_refuses_what_a_copy_cannot_reproduce(
    client: Any, configuration: dict[str, Any], code: dict[str, Any] | None, says: str
) -> None:
    with Stubber(client) as stubber:
        _start(stubber, code, **configuration)
        with pytest.raises(BenchmarkNotPossibleError) as raised, _benchmark(client):
            pass
        stubber.assert_no_pending_responses()  # and nothing was created
    message = str(raised.value)
    assert says in message
    assert message.endswith("benchmark the function in place instead (tunebot tune --in-place).")
    assert message.count(". ") == 0  # one sentence


def test_in_place_refuses_a_function_that_writes_no_report_lines(client: Any) -> None:
    """System log level WARN filters out the INFO-level REPORT line (Lambda's log-level
    filtering), so the function itself cannot be measured: refused before anything changes."""
    logging = {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "WARN",
        "LogGroup": "/aws/lambda/checkout",
    }
    with Stubber(client) as stubber:
        _start(stubber, LoggingConfig=logging)
        with (
            pytest.raises(BenchmarkNotPossibleError, match="system log level WARN"),
            _benchmark(client, in_place=True),
        ):
            pass
        stubber.assert_no_pending_responses()


def test_a_copy_is_faithful_and_writes_report_lines(client: Any) -> None:
    """EFS mounts are copied, the system log level is raised to INFO (the original's WARN would
    hide the REPORT lines), and the copy is pinned to the original's runtime version."""
    calls: list[tuple[str, dict[str, Any]]] = []
    client.meta.events.register(
        "provide-client-params.lambda.*",
        lambda params, model, **_: calls.append((model.name, dict(params))),
    )
    mount = {
        "Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abc",
        "LocalMountPath": "/mnt/models",
    }
    original = {
        "FileSystemConfigs": [mount],
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "vpc-1"},
        "LoggingConfig": {
            "LogFormat": "JSON",
            "ApplicationLogLevel": "ERROR",
            "SystemLogLevel": "WARN",
            "LogGroup": "/custom/checkout",
        },
        "RuntimeVersionConfig": {"RuntimeVersionArn": PYTHON_RUNTIME_VERSION},
    }
    with Stubber(client) as stubber:
        _start(stubber, **original)
        stubber.add_response("create_function", _configuration(State="Pending"), None)
        _ready(stubber, RuntimeVersionConfig={"RuntimeVersionArn": NEWER_RUNTIME_VERSION})
        stubber.add_response(
            "put_runtime_management_config",
            {
                "UpdateRuntimeOn": "Manual",
                "FunctionArn": ARN,
                "RuntimeVersionArn": PYTHON_RUNTIME_VERSION,
            },
            {
                "FunctionName": ANY,
                "UpdateRuntimeOn": "Manual",
                "RuntimeVersionArn": PYTHON_RUNTIME_VERSION,
            },
        )
        _ready(stubber, RuntimeVersionConfig={"RuntimeVersionArn": PYTHON_RUNTIME_VERSION})
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with _benchmark(client) as benchmark:
            benchmark.prepare(1024, X86)
        stubber.assert_no_pending_responses()
    (created,) = [params for name, params in calls if name == "CreateFunction"]
    assert created["FileSystemConfigs"] == [mount]
    assert created["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "ERROR",
        "SystemLogLevel": "INFO",
    }
    assert "KMSKeyArn" not in created


def test_a_runtime_lambda_no_longer_creates_is_one_sentence(client: Any) -> None:
    with Stubber(client) as stubber:
        _start(stubber, Runtime="python3.7")
        stubber.add_client_error(
            "create_function",
            service_error_code="InvalidParameterValueException",
            service_message="The runtime parameter of python3.7 is no longer supported for "
            "creating or updating AWS Lambda functions. We recommend you use the new runtime "
            "(python3.12) while creating or updating functions.",
            http_status_code=400,
        )
        with (
            pytest.raises(BenchmarkNotPossibleError) as raised,
            _benchmark(client) as benchmark,
        ):
            benchmark.prepare(1024, X86)
        stubber.assert_no_pending_responses()
    assert str(raised.value) == (
        "Lambda no longer creates functions on python3.7, so no benchmark copy can be made; "
        "benchmark the function in place instead (tunebot tune --in-place)."
    )

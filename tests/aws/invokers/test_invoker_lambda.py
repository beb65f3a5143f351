"""The real Lambda invoker against botocore's Stubber (recorded response shapes) and moto.

What matters most: the temporary copy is deleted on success, on failure and on interruption,
and an in-place run restores the function.
"""

from __future__ import annotations

import base64
import io
import io as _io
import json
import os
import signal
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from moto import mock_aws

from aws.errors import AwsError
from aws.invokers.lambda_invoker import BENCHMARK_TAG, BenchmarkInterrupted, LambdaBenchmark
from aws.invokers.payload import Payloads
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import ErrorKind, Observation, Probe

X86 = Architecture.X86_64
ARM = Architecture.ARM64
ARN = "arn:aws:lambda:us-east-1:123456789012:function:checkout"
ROLE = "arn:aws:iam::123456789012:role/checkout-role"

CONFIGURATION: dict[str, Any] = {
    "FunctionName": "checkout",
    "FunctionArn": ARN,
    "Runtime": "python3.12",
    "Role": ROLE,
    "Handler": "app.handler",
    "CodeSize": 1024,
    "Timeout": 30,
    "MemorySize": 1024,
    "Architectures": ["x86_64"],
    "PackageType": "Zip",
    "Environment": {"Variables": {"TABLE": "orders"}},
    "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:3", "CodeSize": 10}],
    "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "vpc-1"},
    "EphemeralStorage": {"Size": 512},
    "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/checkout"},
    "State": "Active",
    "LastUpdateStatus": "Successful",
}


def _tail(
    duration: float, billed: int, memory: int, init: float | None = None, extra: str = ""
) -> str:
    line = (
        "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\t"
        f"Duration: {duration} ms\tBilled Duration: {billed} ms\tMemory Size: {memory} MB\t"
        "Max Memory Used: 56 MB\t"
    )
    if init is not None:
        line += f"Init Duration: {init} ms\t"
    text = (
        "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST\n"
        "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\n" + line + extra + "\n"
    )
    return base64.b64encode(text.encode()).decode()


def _invoke_response(log_result: str, function_error: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "StatusCode": 200,
        "LogResult": log_result,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(b"{}"), 2),
    }
    if function_error:
        response["FunctionError"] = function_error
    return response


class Recorder:
    """Collects the parameters of every call, for asserting on the copy's settings."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("provide-client-params.lambda.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]


@pytest.fixture
def client() -> Any:
    return boto3.client("lambda", region_name="us-east-1")


def _benchmark(client: Any, **kwargs: Any) -> LambdaBenchmark:
    return LambdaBenchmark(
        "checkout",
        client=client,
        code_fetcher=lambda url: b"PK-zip-bytes",
        sleep=lambda seconds: None,
        min_interval_s=0,
        **kwargs,
    )


def _stub_start(stubber: Stubber) -> None:
    stubber.add_response(
        "get_function",
        {"Configuration": CONFIGURATION, "Code": {"Location": "https://example.com/code.zip"}},
        {"FunctionName": "checkout"},
    )


def _stub_copy(stubber: Stubber) -> None:
    stubber.add_response("create_function", {"FunctionName": "copy"}, None)
    stubber.add_response(
        "get_function_configuration",
        {"State": "Active", "LastUpdateStatus": "Successful"},
        {"FunctionName": ANY},
    )


def test_copy_is_created_like_the_original_invoked_and_deleted(client: Any) -> None:
    recorder = Recorder(client)
    with Stubber(client) as stubber:
        _stub_start(stubber)
        _stub_copy(stubber)
        stubber.add_response("invoke", _invoke_response(_tail(1400.5, 1531, 1024, 130.49)), None)
        stubber.add_response("invoke", _invoke_response(_tail(1210.25, 1211, 1024)), None)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with _benchmark(client, payloads=Payloads.single({"order": 1})) as benchmark:
            assert benchmark.function.memory_mb == 1024
            observations = benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=2)])
        stubber.assert_no_pending_responses()
    assert observations == [
        Observation(
            memory_mb=1024,
            architecture=X86,
            duration_ms=1400.5,
            billed_duration_ms=1531,
            init_duration_ms=130.49,
            max_memory_used_mb=56,
        ),
        Observation(
            memory_mb=1024,
            architecture=X86,
            duration_ms=1210.25,
            billed_duration_ms=1211,
            max_memory_used_mb=56,
        ),
    ]
    (created,) = recorder.params("CreateFunction")
    assert created["FunctionName"].startswith("tunebot-bench-checkout-x86-")
    assert len(created["FunctionName"]) <= 64
    assert created["Role"] == ROLE
    assert created["Code"] == {"ZipFile": b"PK-zip-bytes"}
    assert created["Environment"] == {"Variables": {"TABLE": "orders"}}
    assert created["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
    assert created["VpcConfig"] == {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert created["Architectures"] == ["x86_64"]
    assert created["Tags"] == {BENCHMARK_TAG: "checkout"}
    (deleted,) = recorder.params("DeleteFunction")
    assert deleted["FunctionName"] == created["FunctionName"]
    invoked = recorder.params("Invoke")
    assert all(params["LogType"] == "Tail" for params in invoked)
    assert invoked[0]["Payload"] == b'{"order": 1}'


def test_prefix_comes_from_the_environment(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEBOT_BENCHMARK_PREFIX", "perf-")
    assert _benchmark(client).prefix == "perf-"


def test_copy_is_deleted_when_an_invocation_fails(client: Any) -> None:
    recorder = Recorder(client)
    with Stubber(client) as stubber:
        _stub_start(stubber)
        _stub_copy(stubber)
        stubber.add_client_error("invoke", "ServiceException", "Lambda is having a bad day")
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with pytest.raises(AwsError), _benchmark(client) as benchmark:
            benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=3)])
        stubber.assert_no_pending_responses()
    assert len(recorder.params("DeleteFunction")) == 1


class _Interrupting:
    """A client whose invoke is interrupted (Ctrl-C, or SIGTERM sent to this process)."""

    def __init__(self, client: Any, how: str) -> None:
        self._client = client
        self._how = how

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def invoke(self, **params: Any) -> Any:
        if self._how == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        raise KeyboardInterrupt


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_copy_is_deleted_on_interruption(client: Any, how: str) -> None:
    recorder = Recorder(client)
    before = signal.getsignal(signal.SIGTERM)
    expected = BenchmarkInterrupted if how == "sigterm" else KeyboardInterrupt
    with Stubber(client) as stubber:
        _stub_start(stubber)
        _stub_copy(stubber)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with pytest.raises(expected), _benchmark(_Interrupting(client, how)) as benchmark:
            benchmark.invoke([Probe(memory_mb=1024, architecture=ARM, count=3)])
        stubber.assert_no_pending_responses()
    assert len(recorder.params("DeleteFunction")) == 1
    assert recorder.params("CreateFunction")[0]["Architectures"] == ["arm64"]
    assert signal.getsignal(signal.SIGTERM) == before


def test_throttled_invocations_back_off_and_retry(client: Any) -> None:
    slept: list[float] = []
    with Stubber(client) as stubber:
        _stub_start(stubber)
        _stub_copy(stubber)
        stubber.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded")
        stubber.add_response("invoke", _invoke_response(_tail(10.0, 10, 1024, 90.0)), None)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        benchmark = LambdaBenchmark(
            "checkout",
            client=client,
            code_fetcher=lambda url: b"zip",
            sleep=slept.append,
            min_interval_s=0,
        )
        with benchmark:
            (observation,) = benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=1)])
        stubber.assert_no_pending_responses()
    assert observation.billed_duration_ms == 10
    assert slept == [0.5]


def test_function_errors_and_json_log_format(client: Any, fixtures_dir: Path) -> None:
    json_report = (
        (fixtures_dir / "lambda-logs" / "platform-report.jsonl").read_text().splitlines()[1]
    )
    out_of_memory = _tail(
        800.0, 800, 1024, extra="Status: error\tError Type: Runtime.OutOfMemory\t"
    )
    with Stubber(client) as stubber:
        _stub_start(stubber)
        _stub_copy(stubber)
        stubber.add_response(
            "invoke", _invoke_response(base64.b64encode(json_report.encode()).decode()), None
        )
        stubber.add_response("invoke", _invoke_response(out_of_memory, "Unhandled"), None)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with _benchmark(client) as benchmark:
            observations = benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=5)])
        stubber.assert_no_pending_responses()
    first, failed = observations
    assert (first.duration_ms, first.billed_duration_ms, first.init_duration_ms) == (
        329.177,
        330,
        503.083,
    )
    assert failed.error is ErrorKind.OUT_OF_MEMORY


def test_in_place_uses_versions_and_aliases_and_restores_everything(client: Any) -> None:
    recorder = Recorder(client)
    with Stubber(client) as stubber:
        _stub_start(stubber)
        stubber.add_response(
            "update_function_configuration",
            {"FunctionName": "checkout", "MemorySize": 512},
            {"FunctionName": "checkout", "MemorySize": 512},
        )
        stubber.add_response(
            "get_function_configuration",
            {"State": "Active", "LastUpdateStatus": "InProgress"},
            {"FunctionName": "checkout"},
        )
        stubber.add_response(
            "get_function_configuration",
            {"State": "Active", "LastUpdateStatus": "Successful"},
            {"FunctionName": "checkout"},
        )
        stubber.add_response(
            "list_versions_by_function",
            {"Versions": [{"Version": "$LATEST"}, {"Version": "6"}]},
            {"FunctionName": "checkout"},
        )
        stubber.add_response("publish_version", {"Version": "7"}, None)
        stubber.add_response(
            "get_function_configuration",
            {"MemorySize": 512},
            {"FunctionName": "checkout", "Qualifier": "7"},
        )
        stubber.add_response(
            "create_alias",
            {"Name": "tunebot-bench-512mb", "FunctionVersion": "7"},
            {"FunctionName": "checkout", "Name": "tunebot-bench-512mb", "FunctionVersion": "7"},
        )
        stubber.add_response("invoke", _invoke_response(_tail(50.0, 50, 512, 120.0)), None)
        stubber.add_response(
            "delete_alias", {}, {"FunctionName": "checkout", "Name": "tunebot-bench-512mb"}
        )
        stubber.add_response("delete_function", {}, {"FunctionName": "checkout", "Qualifier": "7"})
        stubber.add_response(
            "update_function_configuration",
            {"FunctionName": "checkout", "MemorySize": 1024},
            {"FunctionName": "checkout", "MemorySize": 1024},
        )
        with _benchmark(client, in_place=True) as benchmark:
            (observation,) = benchmark.invoke([Probe(memory_mb=512, architecture=X86, count=1)])
            with pytest.raises(AwsError, match="current architecture"):
                benchmark.invoke([Probe(memory_mb=512, architecture=ARM, count=1)])
        stubber.assert_no_pending_responses()
    assert observation.memory_mb == 512
    assert recorder.params("Invoke")[0]["Qualifier"] == "tunebot-bench-512mb"
    assert not recorder.params("CreateFunction")


def _zip() -> bytes:
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@mock_aws
def test_moto_copy_lives_only_inside_the_run() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(
        RoleName="checkout-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name="us-east-1")
    lam.create_function(
        FunctionName="checkout",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        MemorySize=1024,
        Environment={"Variables": {"TABLE": "orders"}},
    )

    def names() -> set[str]:
        return {f["FunctionName"] for f in lam.list_functions()["Functions"]}

    with (
        pytest.raises(RuntimeError, match="boom"),
        LambdaBenchmark(
            "checkout", client=lam, code_fetcher=lambda url: _zip(), sleep=lambda s: None
        ) as benchmark,
    ):
        name, qualifier = benchmark.prepare(2048, ARM)
        assert qualifier is None and name in names()
        copy = lam.get_function(FunctionName=name)["Configuration"]
        assert copy["MemorySize"] == 2048
        assert copy["Architectures"] == ["arm64"]
        assert copy["Environment"]["Variables"] == {"TABLE": "orders"}
        assert copy["Role"] == role
        assert benchmark.prepare(512, ARM) == (name, None)
        assert lam.get_function(FunctionName=name)["Configuration"]["MemorySize"] == 512
        raise RuntimeError("boom")
    assert names() == {"checkout"}
    assert lam.get_function(FunctionName="checkout")["Configuration"]["MemorySize"] == 1024


def test_a_copy_lambda_refuses_on_the_other_architecture_is_an_error_observation(
    client: Any,
) -> None:
    with Stubber(client) as stubber:
        _stub_start(stubber)
        stubber.add_client_error(
            "create_function",
            "InvalidParameterValueException",
            "Layer arn:aws:lambda:us-east-1:123456789012:layer:deps:3 is not compatible with arm64",
        )
        _stub_copy(stubber)
        stubber.add_response("invoke", _invoke_response(_tail(10.0, 10, 1024, 90.0)), None)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with _benchmark(client) as benchmark:
            refused, ran = benchmark.invoke(
                [
                    Probe(memory_mb=1024, architecture=ARM, count=3),
                    Probe(memory_mb=1024, architecture=X86, count=1),
                ]
            )
        stubber.assert_no_pending_responses()
    assert (refused.architecture, refused.error, refused.billed_duration_ms) == (
        ARM,
        ErrorKind.ERROR,
        0,
    )
    assert ran.error is None


def test_a_copy_refused_on_the_current_architecture_stops_the_run(client: Any) -> None:
    with Stubber(client) as stubber:
        _stub_start(stubber)
        stubber.add_client_error("create_function", "InvalidParameterValueException", "No.")
        with (
            pytest.raises(AwsError, match="create the benchmark copy"),
            _benchmark(client) as benchmark,
        ):
            benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=1)])
        stubber.assert_no_pending_responses()


def test_a_container_image_is_copied_by_digest(client: Any) -> None:
    recorder = Recorder(client)
    image = {
        key: value
        for key, value in CONFIGURATION.items()
        if key not in ("Runtime", "Handler", "Layers")
    }
    image["PackageType"] = "Image"
    image["ImageConfigResponse"] = {"ImageConfig": {"Command": ["app.handler"]}}
    repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout"
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_function",
            {
                "Configuration": image,
                "Code": {
                    "RepositoryType": "ECR",
                    "ImageUri": f"{repository}:latest",
                    "ResolvedImageUri": f"{repository}@sha256:" + "a" * 64,
                },
            },
            {"FunctionName": "checkout"},
        )
        _stub_copy(stubber)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with _benchmark(client) as benchmark:
            benchmark.prepare(1024, X86)
        stubber.assert_no_pending_responses()
    (created,) = recorder.params("CreateFunction")
    assert created["PackageType"] == "Image"
    assert created["Code"] == {"ImageUri": f"{repository}@sha256:" + "a" * 64}
    assert created["ImageConfig"] == {"Command": ["app.handler"]}
    assert "Runtime" not in created and "Handler" not in created


def test_a_qualified_name_reads_that_version_and_error_types_are_kept(client: Any) -> None:
    """Stubber: GetFunction takes ``name:alias`` (AWS documents the qualified forms), and a
    function error's response payload is ``{"errorType": ..., "errorMessage": ...}``."""
    failed = _invoke_response(_tail(40.0, 40, 1024), "Unhandled")
    body = json.dumps({"errorType": "ValidationError", "errorMessage": "bad"}).encode()
    failed["Payload"] = StreamingBody(io.BytesIO(body), len(body))
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_function",
            {
                "Configuration": {**CONFIGURATION, "FunctionArn": f"{ARN}:live"},
                "Code": {"Location": "https://example.com/live.zip"},
            },
            {"FunctionName": "checkout:live"},
        )
        _stub_copy(stubber)
        stubber.add_response("invoke", failed, None)
        stubber.add_response("delete_function", {}, {"FunctionName": ANY})
        with LambdaBenchmark(
            "checkout:live",
            client=client,
            code_fetcher=lambda url: b"PK-" + url.encode(),
            sleep=lambda seconds: None,
            min_interval_s=0,
        ) as benchmark:
            (observation,) = benchmark.invoke([Probe(memory_mb=1024, architecture=X86, count=3)])
            assert benchmark.function.name == "checkout"
        stubber.assert_no_pending_responses()
    assert observation.error is ErrorKind.ERROR
    assert observation.error_type == "ValidationError"

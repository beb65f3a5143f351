"""The recorded AWS responses (``tests/fixtures/aws``), fed to the code that reads them through
botocore's Stubber — which validates each response against the service model again and each
request as botocore does before sending. These are the behaviours moto hides: an unchanged
``PublishVersion``, an environment GetFunction cannot decrypt, signed or KMS-encrypted code,
SnapStart, system log level WARN, ``ResourceConflictException`` while an update is in progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from aws.appliers.base import ApplyContext
from aws.appliers.errors import ResourceBusyError, StaleChangeError
from aws.appliers.registry import apply_change
from aws.invokers.lambda_invoker import BenchmarkNotPossibleError, LambdaBenchmark
from recommendations.changes import MemoryChange
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Probe
from tests.contracts.fixtures import add_error, add_response, response

L = "lambda"


@pytest.fixture
def lam() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _benchmark(client: Any, **kwargs: Any) -> LambdaBenchmark:
    return LambdaBenchmark(
        "checkout",
        client=client,
        code_fetcher=lambda url: b"PK",
        sleep=lambda seconds: None,
        min_interval_s=0,
        **kwargs,
    )


def test_in_place_run_on_an_unchanged_function_deletes_no_version(lam) -> None:  # type: ignore[no-untyped-def]
    client, stubber = lam
    add_response(stubber, L, "GetFunction", "zip")
    add_response(stubber, L, "UpdateFunctionConfiguration", "accepted")
    add_response(stubber, L, "GetFunctionConfiguration", "active")
    add_response(stubber, L, "ListVersionsByFunction", "two-pages-first")
    add_response(stubber, L, "ListVersionsByFunction", "two-pages-last")
    add_response(stubber, L, "PublishVersion", "unchanged")  # version 7, which existed
    add_response(stubber, L, "GetFunctionConfiguration", "version")
    add_response(stubber, L, "CreateAlias", "created")
    add_response(stubber, L, "Invoke", "with-report")
    add_response(stubber, L, "DeleteAlias", "deleted")
    # Nothing more queued: a DeleteFunction of version 7 would fail the Stubber.
    with _benchmark(client, in_place=True) as benchmark:
        (observation,) = benchmark.invoke(
            [Probe(memory_mb=1024, architecture=Architecture.X86_64, count=1)]
        )
    assert (observation.duration_ms, observation.billed_duration_ms) == (1210.25, 1211)


def test_in_place_run_deletes_the_version_it_published(lam) -> None:  # type: ignore[no-untyped-def]
    client, stubber = lam
    add_response(stubber, L, "GetFunction", "zip")
    add_response(stubber, L, "UpdateFunctionConfiguration", "accepted")
    add_response(stubber, L, "GetFunctionConfiguration", "active")
    add_response(stubber, L, "ListVersionsByFunction", "two-pages-first")
    add_response(stubber, L, "ListVersionsByFunction", "two-pages-last")
    add_response(stubber, L, "PublishVersion", "published")  # version 8, new
    stubber.add_response(
        "get_function_configuration",
        {**response(L, "PublishVersion", "published")},
        {"FunctionName": "checkout", "Qualifier": "8"},
    )
    add_response(stubber, L, "CreateAlias", "created")
    add_error(stubber, L, "Invoke", "ResourceConflictException")  # retried
    add_response(stubber, L, "Invoke", "with-report")
    add_response(stubber, L, "DeleteAlias", "deleted")
    stubber.add_response(
        "delete_function",
        response(L, "DeleteFunction", "deleted"),
        {"FunctionName": "checkout", "Qualifier": "8"},
    )
    add_response(stubber, L, "UpdateFunctionConfiguration", "accepted")  # memory back to 1024
    with _benchmark(client, in_place=True) as benchmark:
        benchmark.invoke([Probe(memory_mb=512, architecture=Architecture.X86_64, count=1)])


@pytest.mark.parametrize(
    ("variant", "in_place", "says"),
    [
        ("environment-under-customer-key-without-rights", False, "customer managed KMS key"),
        ("signed-code", False, "is signed"),
        ("code-under-customer-key", False, "SourceKMSKeyArn"),
        ("snapstart", False, "uses SnapStart"),
        ("system-log-level-warn", True, "system log level WARN"),
    ],
)
def test_functions_a_mode_cannot_measure_are_refused_before_anything_changes(
    lam: tuple[Any, Stubber], variant: str, in_place: bool, says: str
) -> None:
    client, stubber = lam
    add_response(stubber, L, "GetFunction", variant)
    with (
        pytest.raises(BenchmarkNotPossibleError, match=says),
        _benchmark(client, in_place=in_place),
    ):
        pass


def test_a_copy_of_an_efs_function_mounts_the_same_access_point(lam) -> None:  # type: ignore[no-untyped-def]
    client, stubber = lam
    original = response(L, "GetFunction", "efs-and-pinned-runtime")
    add_response(stubber, L, "GetFunction", "efs-and-pinned-runtime")
    stubber.add_response(
        "create_function",
        response(L, "CreateFunction", "pending"),
        {
            "FunctionName": ANY,
            "Role": original["Configuration"]["Role"],
            "Timeout": 30,
            "MemorySize": 1024,
            "Architectures": ["x86_64"],
            "Publish": False,
            "Description": ANY,
            "Tags": ANY,
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK"},
            "VpcConfig": {
                "SubnetIds": original["Configuration"]["VpcConfig"]["SubnetIds"],
                "SecurityGroupIds": original["Configuration"]["VpcConfig"]["SecurityGroupIds"],
            },
            "EphemeralStorage": {"Size": 512},
            "FileSystemConfigs": original["Configuration"]["FileSystemConfigs"],
            "LoggingConfig": {"LogFormat": "Text"},
        },
    )
    add_response(stubber, L, "GetFunctionConfiguration", "active")  # same runtime version
    add_response(stubber, L, "DeleteFunction", "deleted")
    with _benchmark(client) as benchmark:
        benchmark.prepare(1024, Architecture.X86_64)


@pytest.fixture
def context(lam: tuple[Any, Stubber]) -> ApplyContext:
    return ApplyContext(lam[0], sleep=lambda seconds: None)


def test_an_update_in_progress_is_busy_after_the_retries(lam, context) -> None:  # type: ignore[no-untyped-def]
    _, stubber = lam
    add_response(stubber, L, "GetFunctionConfiguration", "active")
    for _ in range(len(context.busy_retry_delays_s) + 1):
        add_error(stubber, L, "UpdateFunctionConfiguration", "ResourceConflictException")
    with pytest.raises(ResourceBusyError, match="try again in a minute"):
        apply_change(MemoryChange(function_name="checkout", before=1024, after=512), context)


def test_a_moved_revision_is_stale(lam, context) -> None:  # type: ignore[no-untyped-def]
    _, stubber = lam
    add_response(stubber, L, "GetFunctionConfiguration", "active")
    add_error(stubber, L, "UpdateFunctionConfiguration", "PreconditionFailedException")
    with pytest.raises(StaleChangeError):
        apply_change(MemoryChange(function_name="checkout", before=1024, after=512), context)


def test_an_update_seen_in_progress_is_waited_out(lam, context) -> None:  # type: ignore[no-untyped-def]
    _, stubber = lam
    add_response(stubber, L, "GetFunctionConfiguration", "updating")
    add_response(stubber, L, "GetFunctionConfiguration", "active")
    add_response(stubber, L, "UpdateFunctionConfiguration", "accepted")
    stubber.add_response(
        "get_function",
        {
            **response(L, "GetFunction", "zip"),
            "Configuration": {
                **response(L, "GetFunction", "zip")["Configuration"],
                "MemorySize": 512,
            },
        },
    )
    stubber.add_response(
        "get_function_configuration",
        {**response(L, "GetFunctionConfiguration", "active"), "MemorySize": 512},
    )
    outcome = apply_change(MemoryChange(function_name="checkout", before=1024, after=512), context)
    assert outcome.change.after == 512

"""An update in progress is "busy — retried", never "stale".

Real Lambda refuses ``UpdateFunctionConfiguration``, ``PutFunctionConcurrency``,
``PutProvisionedConcurrencyConfig`` and friends with HTTP 409 ``ResourceConflictException``
("The operation cannot be performed at this time. An update is in progress for resource: …")
while an earlier update of the function is still being applied, and an event source mapping
that is being updated with ``ResourceInUseException`` (Lambda API reference, the Errors section
of each operation). moto never answers either, so these tests use botocore's Stubber with the
codes, statuses and messages AWS documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aws.appliers.base import BUSY_RETRY_DELAYS_S, ApplyContext
from aws.appliers.errors import ResourceBusyError, StaleChangeError
from aws.appliers.registry import apply_change
from aws.change_adapters import change_service
from recommendations.changes import (
    EphemeralStorageChange,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    MemoryChange,
    ReservedConcurrencyChange,
    TimeoutChange,
    TracingChange,
)
from recommendations.snapshot import TracingMode
from service.changes import ResultKind
from tests.aws.change_helpers import client_error, function_arn

NAME = "checkout-api"
ARN = function_arn(NAME)
IN_PROGRESS = (
    f"The operation cannot be performed at this time. An update is in progress for resource: {ARN}"
)


def _configuration(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "FunctionName": NAME,
        "FunctionArn": ARN,
        "MemorySize": 1024,
        "Timeout": 30,
        "RevisionId": "rev-1",
        "State": "Active",
        "LastUpdateStatus": "Successful",
    }
    config.update(overrides)
    return config


@pytest.fixture
def stubbed() -> Iterator[tuple[ApplyContext, Stubber, list[float]]]:
    client = boto3.client("lambda", region_name="us-east-1")
    slept: list[float] = []
    with Stubber(client) as stubber:
        context = ApplyContext(client, sleep=slept.append, waiter_delay_s=1)
        yield context, stubber, slept
        stubber.assert_no_pending_responses()


def _conflict(stubber: Stubber, operation: str) -> None:
    stubber.add_client_error(
        operation, **client_error("ResourceConflictException", IN_PROGRESS, 409)
    )


def test_a_conflicting_update_is_retried_and_then_applied(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber, slept = stubbed
    stubber.add_response("get_function_configuration", _configuration())
    _conflict(stubber, "update_function_configuration")
    _conflict(stubber, "update_function_configuration")
    stubber.add_response(
        "update_function_configuration",
        _configuration(MemorySize=512, LastUpdateStatus="InProgress"),
        {"FunctionName": NAME, "MemorySize": 512, "RevisionId": "rev-1"},
    )
    stubber.add_response("get_function", {"Configuration": _configuration(MemorySize=512)})
    stubber.add_response("get_function_configuration", _configuration(MemorySize=512))
    outcome = apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert outcome.change.after == 512
    assert slept == [1.0, 2.0]


def test_an_update_that_stays_busy_is_one_sentence_not_stale(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber, slept = stubbed
    stubber.add_response("get_function_configuration", _configuration())
    for _ in range(len(context.busy_retry_delays_s) + 1):
        _conflict(stubber, "update_function_configuration")
    with pytest.raises(ResourceBusyError) as raised:
        apply_change(MemoryChange(function_name=NAME, before=1024, after=512), context)
    assert not isinstance(raised.value, StaleChangeError)
    assert raised.value.retryable
    assert str(raised.value) == (
        "Could not update the memory of checkout-api: the function is being updated; nothing "
        "was changed, try again in a minute."
    )
    assert slept == list(context.busy_retry_delays_s)  # bounded: about 30 s in all


def test_a_read_showing_an_update_in_progress_is_waited_out(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber, slept = stubbed
    stubber.add_response(
        "get_function_configuration", _configuration(LastUpdateStatus="InProgress")
    )
    stubber.add_response("get_function_configuration", _configuration())
    stubber.add_response("update_function_configuration", _configuration(Timeout=60))
    stubber.add_response("get_function", {"Configuration": _configuration(Timeout=60)})
    stubber.add_response("get_function_configuration", _configuration(Timeout=60))
    apply_change(TimeoutChange(function_name=NAME, before=30, after=60), context)
    assert slept == [1.0]


def test_reserved_concurrency_conflict_is_retried(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber, slept = stubbed
    stubber.add_response("get_function_concurrency", {})
    _conflict(stubber, "put_function_concurrency")
    stubber.add_response(
        "put_function_concurrency",
        {"ReservedConcurrentExecutions": 50},
        {"FunctionName": NAME, "ReservedConcurrentExecutions": 50},
    )
    stubber.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": 50})
    apply_change(ReservedConcurrencyChange(function_name=NAME, before=None, after=50), context)
    assert slept == [1.0]


def test_a_mapping_in_use_says_the_trigger_is_busy(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber, _ = stubbed
    queue = "arn:aws:sqs:us-east-1:123456789012:orders"
    mapping = {
        "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
        "EventSourceArn": queue,
        "FunctionArn": ARN,
        "State": "Enabled",
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
    }
    stubber.add_response("get_event_source_mapping", mapping)
    for _ in range(len(context.busy_retry_delays_s) + 1):
        stubber.add_client_error(
            "update_event_source_mapping",
            **client_error(
                "ResourceInUseException",
                "Cannot update the event source mapping because it is in use.",
                400,
            ),
        )
    change = EventSourceMappingChange(
        function_name=NAME,
        mapping_uuid=mapping["UUID"],
        source_arn=queue,
        before=EventSourceMappingSettings(batch_size=10, maximum_batching_window_s=0),
        after=EventSourceMappingSettings(batch_size=100, maximum_batching_window_s=5),
    )
    with pytest.raises(ResourceBusyError, match="the trigger is being updated"):
        apply_change(change, context)


def test_the_change_service_reports_busy_as_a_retryable_failure_not_stale() -> None:
    """End to end on moto, with the 409 injected where botocore would send the update."""
    from botocore.exceptions import ClientError
    from moto import mock_aws

    from aws.store import AuditResult
    from tests.aws.change_helpers import (
        REGION,
        Clock,
        create_function,
        moto_store,
        recommendation,
    )

    with mock_aws(), moto_store(Clock()) as store:
        create_function()
        client = boto3.client("lambda", region_name=REGION)
        slept: list[float] = []
        service = change_service(store, ApplyContext(client, sleep=slept.append))

        def busy(**kwargs: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "ResourceConflictException", "Message": IN_PROGRESS}},
                "UpdateFunctionConfiguration",
            )

        client.meta.events.register("before-call.lambda.UpdateFunctionConfiguration", busy)
        rec = recommendation()
        store.put_recommendation(rec)
        result = service.apply_recommendation(rec.id, "cli:alice")
        assert result.kind is ResultKind.FAILED and result.retryable
        assert result.message == (
            "Could not update the memory of checkout-api: the function is being updated; "
            "nothing was changed, try again in a minute."
        )
        assert len(slept) == len(BUSY_RETRY_DELAYS_S)
        assert [a.result for a in service.audit()] == [AuditResult.FAILED]
        # The claim is free again: once the update is done, the same click applies.
        client.meta.events.unregister("before-call.lambda.UpdateFunctionConfiguration", busy)
        assert service.apply_recommendation(rec.id, "cli:alice").kind is ResultKind.APPLIED


@pytest.mark.parametrize(
    ("change", "applied"),
    [
        (
            EphemeralStorageChange(function_name=NAME, before=10240, after=512),
            {"EphemeralStorage": {"Size": 512}},
        ),
        (
            TracingChange(
                function_name=NAME, before=TracingMode.ACTIVE, after=TracingMode.PASS_THROUGH
            ),
            {"TracingConfig": {"Mode": "PassThrough"}},
        ),
    ],
    ids=["ephemeral_storage", "tracing"],
)
def test_the_newer_appliers_retry_a_conflicting_update_too(  # type: ignore[no-untyped-def]
    stubbed, change, applied
) -> None:
    context, stubber, slept = stubbed
    before = {"EphemeralStorage": {"Size": 10240}, "TracingConfig": {"Mode": "Active"}}
    stubber.add_response("get_function_configuration", _configuration(**before))
    _conflict(stubber, "update_function_configuration")
    after = {**before, **applied}
    stubber.add_response("update_function_configuration", _configuration(**after))
    stubber.add_response("get_function", {"Configuration": _configuration(**after)})
    stubber.add_response("get_function_configuration", _configuration(**after))
    outcome = apply_change(change, context)
    assert outcome.change == change
    assert slept == [1.0]

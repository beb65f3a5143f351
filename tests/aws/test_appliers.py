"""Appliers against moto: each change type applies, reads back, is undone by its inverse, and
refuses to act on a resource that moved on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from aws.appliers.base import ApplyContext
from aws.appliers.errors import ChangeError, StaleChangeError
from aws.appliers.registry import IAM_ACTIONS, apply_change
from recommendations.changes import (
    CHANGE_TYPES,
    AsyncFailureDestinationChange,
    AsyncSettings,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    MemoryChange,
    ReservedConcurrencyChange,
    TimeoutChange,
)
from tests.aws.change_helpers import REGION, ROLE_NAME, create_function, put_replaces_like_aws

NAME = "checkout-api"


@pytest.fixture
def context() -> Iterator[ApplyContext]:
    with mock_aws():
        create_function(NAME)
        lambda_client = boto3.client("lambda", region_name=REGION)
        put_replaces_like_aws(lambda_client)
        yield ApplyContext(
            lambda_client,
            boto3.client("sqs", region_name=REGION),
            boto3.client("iam", region_name=REGION),
        )


def _config(context: ApplyContext) -> dict:  # type: ignore[type-arg]
    return context.lambda_client.get_function_configuration(FunctionName=NAME)  # type: ignore[no-any-return]


def test_memory_applies_and_its_inverse_undoes_it(context: ApplyContext) -> None:
    change = MemoryChange(function_name=NAME, before=1024, after=1769)
    outcome = apply_change(change, context)
    assert outcome.change == change
    assert len(outcome.request_ids) == 3
    assert _config(context)["MemorySize"] == 1769
    apply_change(change.inverse(), context)
    assert _config(context)["MemorySize"] == 1024


def test_timeout_applies(context: ApplyContext) -> None:
    apply_change(TimeoutChange(function_name=NAME, before=30, after=12), context)
    assert _config(context)["Timeout"] == 12


def test_stale_memory_changes_nothing(context: ApplyContext) -> None:
    calls: list[str] = []
    context.lambda_client.meta.events.register(
        "before-call.lambda.UpdateFunctionConfiguration", lambda **kw: calls.append("update")
    )
    with pytest.raises(StaleChangeError) as raised:
        apply_change(MemoryChange(function_name=NAME, before=512, after=256), context)
    assert str(raised.value) == (
        "The memory of checkout-api is 1024 MB now, not the 512 MB the recommendation was "
        "computed from; nothing was changed. Run the analysis again."
    )
    assert calls == []
    assert _config(context)["MemorySize"] == 1024


def test_missing_function_is_one_sentence(context: ApplyContext) -> None:
    with pytest.raises(ChangeError, match=r"^Could not read the configuration of nope: it does"):
        apply_change(MemoryChange(function_name="nope", before=128, after=256), context)


def test_reserved_concurrency_set_and_removed(context: ApplyContext) -> None:
    change = ReservedConcurrencyChange(function_name=NAME, before=None, after=20)
    apply_change(change, context)
    lam = context.lambda_client
    assert lam.get_function_concurrency(FunctionName=NAME)["ReservedConcurrentExecutions"] == 20
    with pytest.raises(StaleChangeError, match="is 20 now, not unreserved"):
        apply_change(change, context)
    apply_change(change.inverse(), context)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=NAME)


def _sqs_mapping(context: ApplyContext) -> tuple[str, str]:
    sqs = context.sqs_client
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = context.lambda_client.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=NAME, BatchSize=10
    )
    return mapping["UUID"], arn


def test_event_source_mapping_sends_only_changed_fields(context: ApplyContext) -> None:
    uuid, arn = _sqs_mapping(context)
    sent: list[dict] = []  # type: ignore[type-arg]
    context.lambda_client.meta.events.register(
        "provide-client-params.lambda.UpdateEventSourceMapping",
        lambda params, **kw: sent.append(dict(params)),
    )
    change = EventSourceMappingChange(
        function_name=NAME,
        mapping_uuid=uuid,
        source_arn=arn,
        before=EventSourceMappingSettings(batch_size=10, maximum_batching_window_s=0),
        after=EventSourceMappingSettings(
            batch_size=100, maximum_batching_window_s=5, report_batch_item_failures=True
        ),
    )
    apply_change(change, context)
    assert sent == [
        {
            "UUID": uuid,
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 5,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
    ]
    mapping = context.lambda_client.get_event_source_mapping(UUID=uuid)
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (
        100,
        ["ReportBatchItemFailures"],
    )
    with pytest.raises(StaleChangeError) as raised:
        apply_change(change, context)
    assert str(raised.value) == (
        "The orders trigger of checkout-api changed since the recommendation: batch size is "
        "100, not 10; batching window (s) is 5, not 0; report batch item failures is on, not "
        "off; nothing was changed. Run the analysis again."
    )
    apply_change(change.inverse(), context)
    mapping = context.lambda_client.get_event_source_mapping(UUID=uuid)
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (10, [])


def _stream_mapping(context: ApplyContext) -> tuple[str, str]:
    """A Kinesis trigger as AWS defaults it: retries until records expire, no destination."""
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    mapping = context.lambda_client.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=NAME,
        BatchSize=100,
        StartingPosition="LATEST",
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=-1,
        BisectBatchOnFunctionError=False,
    )
    return mapping["UUID"], arn


STREAM_QUEUE = "tunebot-checkout-api-clicks-failures"
STREAM_QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:{STREAM_QUEUE}"


def _retries_forever_change(uuid: str, arn: str) -> EventSourceMappingChange:
    """BAT-003's change, as the rule builds it from what the scan reads."""
    before = EventSourceMappingSettings(
        batch_size=100,
        maximum_batching_window_s=0,
        maximum_retry_attempts=-1,
        maximum_record_age_s=-1,
        bisect_batch_on_function_error=False,
    )
    return EventSourceMappingChange(
        function_name=NAME,
        mapping_uuid=uuid,
        source_arn=arn,
        before=before,
        after=before.model_copy(
            update={
                "maximum_retry_attempts": 10,
                "bisect_batch_on_function_error": True,
                "on_failure_destination": STREAM_QUEUE_ARN,
            }
        ),
        create_queue_name=STREAM_QUEUE,
    )


def test_stream_retries_are_bounded_with_a_new_failure_queue(context: ApplyContext) -> None:
    uuid, arn = _stream_mapping(context)
    sent: list[dict] = []  # type: ignore[type-arg]
    context.lambda_client.meta.events.register(
        "provide-client-params.lambda.UpdateEventSourceMapping",
        lambda params, **kw: sent.append(dict(params)),
    )
    change = _retries_forever_change(uuid, arn)
    outcome = apply_change(change, context)
    assert sent == [
        {
            "UUID": uuid,
            "MaximumRetryAttempts": 10,
            "BisectBatchOnFunctionError": True,
            "DestinationConfig": {"OnFailure": {"Destination": STREAM_QUEUE_ARN}},
        }
    ]
    mapping = context.lambda_client.get_event_source_mapping(UUID=uuid)
    assert (mapping["MaximumRetryAttempts"], mapping["BisectBatchOnFunctionError"]) == (10, True)
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == STREAM_QUEUE_ARN
    assert outcome.change.after.on_failure_destination == STREAM_QUEUE_ARN
    sqs = context.sqs_client
    url = sqs.get_queue_url(QueueName=STREAM_QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["SqsManagedSseEnabled"], attributes["MessageRetentionPeriod"]) == (
        "true",
        "1209600",
    )
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {
        "tunebot:purpose": "stream-failure-destination",
        "tunebot:function": NAME,
    }
    assert outcome.notes == (
        f"Failed batches' records go to the encrypted SQS queue {STREAM_QUEUE_ARN} (kept 14 days).",
        f"The function's execution role needs sqs:SendMessage on {STREAM_QUEUE_ARN}; tunebot "
        "did not change IAM (IAM changes are not allowed by its configuration).",
    )
    assert context.iam_client.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"] == []
    # Applying it again finds the trigger moved on and changes nothing.
    with pytest.raises(StaleChangeError, match="maximum retry attempts is 10, not unlimited"):
        apply_change(change, context)
    # Undo restores retries, bisect and no destination; the queue stays.
    undo = apply_change(outcome.change.inverse(), context)
    mapping = context.lambda_client.get_event_source_mapping(UUID=uuid)
    assert (mapping["MaximumRetryAttempts"], mapping["BisectBatchOnFunctionError"]) == (-1, False)
    assert not mapping["DestinationConfig"]["OnFailure"].get("Destination")
    assert undo.notes == ("The previous destination queue was kept, with any records in it.",)
    assert sqs.get_queue_url(QueueName=STREAM_QUEUE)["QueueUrl"] == url


def test_stream_failure_queue_gets_the_send_grant_when_allowed(context: ApplyContext) -> None:
    context.allow_iam_changes = True
    uuid, arn = _stream_mapping(context)
    outcome = apply_change(_retries_forever_change(uuid, arn), context)
    assert outcome.notes[1] == f"Granted sqs:SendMessage on the queue to the role {ROLE_NAME}."
    policy = context.iam_client.get_role_policy(
        RoleName=ROLE_NAME, PolicyName=f"tunebot-failure-destination-{STREAM_QUEUE}"
    )["PolicyDocument"]
    document = policy if isinstance(policy, dict) else json.loads(policy)
    assert document["Statement"] == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": STREAM_QUEUE_ARN}
    ]


def test_stream_destination_alone_keeps_the_retry_settings(context: ApplyContext) -> None:
    """BAT-005's change: retries already bounded, only the destination is added."""
    uuid, arn = _stream_mapping(context)
    context.lambda_client.update_event_source_mapping(
        UUID=uuid, MaximumRetryAttempts=3, MaximumRecordAgeInSeconds=3600
    )
    before = EventSourceMappingSettings(
        batch_size=100,
        maximum_retry_attempts=3,
        maximum_record_age_s=3600,
        bisect_batch_on_function_error=False,
    )
    change = EventSourceMappingChange(
        function_name=NAME,
        mapping_uuid=uuid,
        source_arn=arn,
        before=before,
        after=before.model_copy(update={"on_failure_destination": STREAM_QUEUE_ARN}),
        create_queue_name=STREAM_QUEUE,
    )
    apply_change(change, context)
    mapping = context.lambda_client.get_event_source_mapping(UUID=uuid)
    assert (mapping["MaximumRetryAttempts"], mapping["MaximumRecordAgeInSeconds"]) == (3, 3600)
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == STREAM_QUEUE_ARN
    # A record age that moved since the recommendation makes a record-age change stale.
    context.lambda_client.update_event_source_mapping(UUID=uuid, MaximumRecordAgeInSeconds=60)
    aged = EventSourceMappingChange(
        function_name=NAME,
        mapping_uuid=uuid,
        source_arn=arn,
        before=before,
        after=before.model_copy(update={"maximum_record_age_s": 86400}),
    )
    with pytest.raises(StaleChangeError, match=r"maximum record age \(s\) is 60, not 3600"):
        apply_change(aged, context)


def test_async_destination_creates_an_encrypted_queue(context: ApplyContext) -> None:
    change = AsyncFailureDestinationChange(
        function_name=NAME,
        before=AsyncSettings(),
        after=AsyncSettings(
            on_failure_destination=f"arn:aws:sqs:{REGION}:123456789012:checkout-api-failed",
            maximum_retry_attempts=1,
            maximum_event_age_s=3600,
        ),
        create_queue_name="checkout-api-failed",
    )
    outcome = apply_change(change, context)
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:checkout-api-failed"
    assert outcome.change.after.on_failure_destination == queue_arn
    sqs = context.sqs_client
    url = sqs.get_queue_url(QueueName="checkout-api-failed")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true"
    config = context.lambda_client.get_function_event_invoke_config(FunctionName=NAME)
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (1, 3600)
    assert outcome.notes[1] == (
        f"The function's execution role needs sqs:SendMessage on {queue_arn}; tunebot did not "
        "change IAM (IAM changes are not allowed by its configuration)."
    )
    policies = context.iam_client.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"]
    assert policies == []
    # Undo detaches the destination and keeps the queue.
    apply_change(outcome.change.inverse(), context)
    config = context.lambda_client.get_function_event_invoke_config(FunctionName=NAME)
    assert not config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    assert sqs.get_queue_url(QueueName="checkout-api-failed")["QueueUrl"] == url


def test_async_destination_grants_send_only_when_allowed(context: ApplyContext) -> None:
    context.allow_iam_changes = True
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:checkout-api-failed"
    change = AsyncFailureDestinationChange(
        function_name=NAME,
        before=AsyncSettings(),
        after=AsyncSettings(on_failure_destination=queue_arn),
        create_queue_name="checkout-api-failed",
    )
    outcome = apply_change(change, context)
    assert outcome.notes[1] == f"Granted sqs:SendMessage on the queue to the role {ROLE_NAME}."
    policy = context.iam_client.get_role_policy(
        RoleName=ROLE_NAME, PolicyName="tunebot-failure-destination-checkout-api-failed"
    )["PolicyDocument"]
    document = policy if isinstance(policy, dict) else json.loads(policy)
    assert document["Statement"] == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}
    ]


def test_async_destination_is_stale_when_settings_moved(context: ApplyContext) -> None:
    context.lambda_client.put_function_event_invoke_config(
        FunctionName=NAME, MaximumRetryAttempts=0
    )
    change = AsyncFailureDestinationChange(
        function_name=NAME,
        before=AsyncSettings(),
        after=AsyncSettings(on_failure_destination="arn:aws:sqs:us-east-1:123456789012:q"),
    )
    with pytest.raises(StaleChangeError, match="retries 0"):
        apply_change(change, context)


def test_iam_actions_cover_every_change_type() -> None:
    for change_type in CHANGE_TYPES:
        assert set(change_type.iam_actions) <= set(IAM_ACTIONS), change_type.__name__

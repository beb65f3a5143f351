"""The SAM / CloudFormation snippet for each kind of change: exact text, and valid YAML."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.snippets import logical_id, snippet_for
from recommendations.changes import (
    ArchitectureChange,
    AsyncFailureDestinationChange,
    AsyncSettings,
    Change,
    EphemeralStorageChange,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    LoggingSettings,
    LogLevelChange,
    LogRetentionChange,
    MemoryChange,
    ProvisionedConcurrencyChange,
    ReservedConcurrencyChange,
    TimeoutChange,
    TracingChange,
)
from recommendations.snapshot import Architecture, LogFormat, LogLevel, TracingMode


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags as plain values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    return {suffix: loader.construct_scalar(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tag)


def load(text: str) -> Any:
    return yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass


def test_logical_id_from_function_names() -> None:
    assert logical_id("checkout-api") == "CheckoutApi"
    assert logical_id("orders_prod_v2") == "OrdersProdV2"
    assert logical_id("9lives") == "Function9lives"


def test_memory() -> None:
    snippet = snippet_for(MemoryChange(function_name="checkout-api", before=1024, after=512))
    assert snippet.sam == (
        "CheckoutApi:\n  Type: AWS::Serverless::Function\n  Properties:\n    MemorySize: 512"
    )
    assert load(snippet.cloudformation) == {
        "CheckoutApi": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512}}
    }


def test_event_source_mapping_lists_only_changed_settings() -> None:
    change = EventSourceMappingChange(
        function_name="worker",
        mapping_uuid="u-1",
        source_arn="arn:aws:sqs:us-east-1:123456789012:jobs",
        before=EventSourceMappingSettings(batch_size=1, maximum_retry_attempts=3),
        after=EventSourceMappingSettings(
            batch_size=100,
            maximum_batching_window_s=5,
            report_batch_item_failures=True,
            maximum_retry_attempts=3,
        ),
    )
    snippet = snippet_for(change)
    assert load(snippet.cloudformation) == {
        "WorkerJobsMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": "Worker"},
                "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:jobs",
                "BatchSize": 100,
                "MaximumBatchingWindowInSeconds": 5,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        }
    }
    sam = load(snippet.sam)
    assert sam["Worker"]["Properties"]["Events"]["Jobs"]["Properties"]["BatchSize"] == 100


def test_async_destination_with_a_new_queue() -> None:
    change = AsyncFailureDestinationChange(
        function_name="mailer",
        before=AsyncSettings(),
        after=AsyncSettings(
            on_failure_destination="arn:aws:sqs:us-east-1:1:mailer-failures",
            maximum_retry_attempts=1,
            maximum_event_age_s=3600,
        ),
        create_queue_name="mailer-failures",
    )
    cfn = load(snippet_for(change).cloudformation)
    assert cfn["MailerFailures"] == {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": "mailer-failures",
            "SqsManagedSseEnabled": True,
            "MessageRetentionPeriod": 1209600,  # as the applier creates it
        },
    }
    assert cfn["MailerEventInvokeConfig"]["Properties"] == {
        "FunctionName": {"Ref": "Mailer"},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 1,
        "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {"OnFailure": {"Destination": {"GetAtt": "MailerFailures.Arn"}}},
    }


@pytest.mark.parametrize(
    ("change", "sam_properties"),
    [
        (TimeoutChange(function_name="f", before=900, after=30), {"Timeout": 30}),
        (
            ArchitectureChange(
                function_name="f", before=Architecture.X86_64, after=Architecture.ARM64
            ),
            {"Architectures": ["arm64"]},
        ),
        (
            ReservedConcurrencyChange(function_name="f", before=None, after=50),
            {"ReservedConcurrentExecutions": 50},
        ),
        (
            ProvisionedConcurrencyChange(function_name="f", qualifier="live", before=10, after=2),
            {
                "AutoPublishAlias": "live",
                "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2},
            },
        ),
    ],
)
def test_function_properties(change: Change, sam_properties: dict[str, Any]) -> None:
    snippet = snippet_for(change)
    assert load(snippet.sam)["F"]["Properties"] == sam_properties
    assert load(snippet.cloudformation)  # parses


def test_removing_reserved_concurrency_says_so() -> None:
    snippet = snippet_for(ReservedConcurrencyChange(function_name="f", before=5, after=None))
    assert "# remove ReservedConcurrentExecutions (unreserved)" in snippet.sam


def test_stream_retry_limit_with_a_new_failure_queue() -> None:
    before = EventSourceMappingSettings(
        batch_size=100, maximum_retry_attempts=-1, bisect_batch_on_function_error=False
    )
    change = EventSourceMappingChange(
        function_name="indexer",
        mapping_uuid="u-2",
        source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        before=before,
        after=before.model_copy(
            update={
                "maximum_retry_attempts": 10,
                "bisect_batch_on_function_error": True,
                "on_failure_destination": "arn:aws:sqs:us-east-1:1:tunebot-indexer-clicks-failures",
            }
        ),
        create_queue_name="tunebot-indexer-clicks-failures",
    )
    snippet = snippet_for(change)
    queue = {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": "tunebot-indexer-clicks-failures",
            "SqsManagedSseEnabled": True,
            "MessageRetentionPeriod": 1209600,
        },
    }
    cfn = load(snippet.cloudformation)
    assert cfn["TunebotIndexerClicksFailures"] == queue
    assert cfn["IndexerClicksMapping"]["Properties"] == {
        "FunctionName": {"Ref": "Indexer"},
        "EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        "MaximumRetryAttempts": 10,
        "BisectBatchOnFunctionError": True,
        "DestinationConfig": {
            "OnFailure": {"Destination": {"GetAtt": "TunebotIndexerClicksFailures.Arn"}}
        },
    }
    assert "# Indexer's execution role also needs sqs:SendMessage" in snippet.cloudformation
    sam = load(snippet.sam)
    assert sam["TunebotIndexerClicksFailures"] == queue
    # SAM's Type: SQS makes it grant the role sqs:SendMessage on the queue.
    assert sam["Indexer"]["Properties"]["Events"]["Clicks"]["Properties"] == {
        "MaximumRetryAttempts": 10,
        "BisectBatchOnFunctionError": True,
        "DestinationConfig": {
            "OnFailure": {
                "Type": "SQS",
                "Destination": {"GetAtt": "TunebotIndexerClicksFailures.Arn"},
            }
        },
    }
    # Undo's snippet puts unlimited retries back as AWS spells them.
    assert "MaximumRetryAttempts: -1" in snippet_for(change.inverse()).cloudformation


def test_ephemeral_storage() -> None:
    snippet = snippet_for(EphemeralStorageChange(function_name="etl-job", before=10240, after=512))
    assert snippet.sam == (
        "EtlJob:\n  Type: AWS::Serverless::Function\n  Properties:\n"
        "    EphemeralStorage:\n      Size: 512"
    )
    assert load(snippet.cloudformation) == {
        "EtlJob": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"EphemeralStorage": {"Size": 512}},
        }
    }


def test_log_level_sets_logging_config() -> None:
    change = LogLevelChange(
        function_name="f",
        before=LoggingSettings(),
        after=LoggingSettings(
            log_format=LogFormat.JSON,
            application_log_level=LogLevel.WARN,
            system_log_level=LogLevel.INFO,
        ),
    )
    snippet = snippet_for(change)
    expected = {
        "LoggingConfig": {
            "LogFormat": "JSON",
            "ApplicationLogLevel": "WARN",
            "SystemLogLevel": "INFO",
        }
    }
    assert load(snippet.sam)["F"]["Properties"] == expected
    assert load(snippet.cloudformation)["F"] == {
        "Type": "AWS::Lambda::Function",
        "Properties": expected,
    }
    # Back to Text: no levels (AWS refuses them with the Text format).
    undo = snippet_for(change.inverse())
    assert load(undo.sam)["F"]["Properties"] == {"LoggingConfig": {"LogFormat": "Text"}}


def test_tracing_uses_sams_shorthand_and_cloudformations_block() -> None:
    change = TracingChange(
        function_name="f", before=TracingMode.ACTIVE, after=TracingMode.PASS_THROUGH
    )
    snippet = snippet_for(change)
    assert load(snippet.sam)["F"]["Properties"] == {"Tracing": "PassThrough"}
    assert load(snippet.cloudformation)["F"]["Properties"] == {
        "TracingConfig": {"Mode": "PassThrough"}
    }


def test_log_retention_is_a_log_group_resource() -> None:
    change = LogRetentionChange(function_name="f", log_group="/aws/lambda/f", before=None, after=30)
    snippet = snippet_for(change)
    assert snippet.sam == snippet.cloudformation
    assert load(snippet.sam) == {
        "AwsLambdaF": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "/aws/lambda/f", "RetentionInDays": 30},
        }
    }
    assert "# remove RetentionInDays (never expire)" in snippet_for(change.inverse()).sam


def test_a_change_type_without_its_own_snippet_is_refused() -> None:
    """A new Change type must not silently get another type's template edit."""
    from recommendations.changes import _ChangeBase

    class Unlisted(_ChangeBase):
        after: int = 1

    with pytest.raises(TypeError, match="no template snippet for Unlisted"):
        snippet_for(Unlisted(function_name="f"))  # type: ignore[arg-type]

"""Appliers of LOG-001, LOG-002 and TRC-001 changes.

Retention runs on moto (it has DescribeLogGroups, PutRetentionPolicy and DeleteRetentionPolicy).
moto ignores ``LoggingConfig`` and ``TracingConfig`` in UpdateFunctionConfiguration, so the
logging and tracing appliers are tested with botocore's Stubber and responses shaped as the
Lambda API reference documents them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from aws.appliers.base import ApplyContext
from aws.appliers.errors import ChangeVerificationError, ResourceMissingError, StaleChangeError
from aws.appliers.registry import apply_change
from recommendations.changes import (
    LoggingSettings,
    LogLevelChange,
    LogRetentionChange,
    TracingChange,
)
from recommendations.snapshot import LogFormat, LogLevel, TracingMode
from tests.aws.test_appliers_stubbed import NAME, _configuration, _get_function, _meta

GROUP = f"/aws/lambda/{NAME}"
REVISION = "8f1e2b6c-0000-4000-8000-000000000001"
TO_JSON_WARN = LogLevelChange(
    function_name=NAME,
    before=LoggingSettings(),
    after=LoggingSettings(log_format=LogFormat.JSON, application_log_level=LogLevel.WARN),
)


@pytest.fixture
def logs_context() -> Iterator[ApplyContext]:
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_group(logGroupName=f"{GROUP}-other")  # a namesake by prefix
        yield ApplyContext(logs_client=logs)


def _retention(context: ApplyContext, group: str = GROUP) -> Any:
    [found] = [
        g
        for g in context.logs_client.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if g["logGroupName"] == group
    ]
    return found.get("retentionInDays")


def test_retention_applies_and_undo_restores_never_expire(logs_context: ApplyContext) -> None:
    change = LogRetentionChange(function_name=NAME, log_group=GROUP, before=None, after=30)
    outcome = apply_change(change, logs_context)
    assert outcome.change == change
    assert _retention(logs_context) == 30
    assert _retention(logs_context, f"{GROUP}-other") is None  # only the named group
    apply_change(change.inverse(), logs_context)
    assert _retention(logs_context) is None


def test_retention_is_stale_when_someone_set_one(logs_context: ApplyContext) -> None:
    logs_context.logs_client.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    change = LogRetentionChange(function_name=NAME, log_group=GROUP, before=None, after=30)
    with pytest.raises(StaleChangeError, match="is 7 days now, not the never expire"):
        apply_change(change, logs_context)
    assert _retention(logs_context) == 7


def test_retention_of_a_missing_group(logs_context: ApplyContext) -> None:
    change = LogRetentionChange(
        function_name=NAME, log_group="/aws/lambda/gone", before=None, after=30
    )
    with pytest.raises(ResourceMissingError, match="/aws/lambda/gone does not exist"):
        apply_change(change, logs_context)


def test_retention_values_are_those_aws_accepts() -> None:
    with pytest.raises(ValueError, match="accepts a retention of"):
        LogRetentionChange(function_name=NAME, log_group=GROUP, before=None, after=31)


@pytest.fixture
def stubbed() -> Iterator[tuple[ApplyContext, Stubber]]:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ApplyContext(client, waiter_delay_s=1, waiter_max_attempts=2), stubber
        stubber.assert_no_pending_responses()


JSON_WARN = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO"}


def test_log_level_switches_to_json_and_keeps_the_log_group(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    text = {"LogFormat": "Text", "LogGroup": "/shop/orders"}
    stubber.add_response(
        "get_function_configuration", _configuration(LoggingConfig=text), {"FunctionName": NAME}
    )
    stubber.add_response(
        "update_function_configuration",
        _configuration(LoggingConfig={**JSON_WARN, "LogGroup": "/shop/orders"}),
        {
            "FunctionName": NAME,
            "RevisionId": REVISION,
            "LoggingConfig": {
                "LogFormat": "JSON",
                "ApplicationLogLevel": "WARN",
                "LogGroup": "/shop/orders",
            },
        },
    )
    stubber.add_response("get_function", _get_function(), {"FunctionName": NAME})
    stubber.add_response(
        "get_function_configuration",
        _configuration(
            LoggingConfig={**JSON_WARN, "LogGroup": "/shop/orders"},
            RevisionId="rev-2",
            ResponseMetadata=_meta("req-after"),
        ),
        {"FunctionName": NAME},
    )
    outcome = apply_change(TO_JSON_WARN, context, expected_revision_id=REVISION)
    assert outcome.revision_id == "rev-2"
    assert outcome.request_ids == ("req-config", "req-config", "req-after")


def test_undo_back_to_text_sends_no_levels(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    # TO_JSON_WARN left the system level to AWS, which made it INFO: its inverse still applies.
    undo = TO_JSON_WARN.inverse()
    current = {**JSON_WARN}
    stubber.add_response("get_function_configuration", _configuration(LoggingConfig=current))
    stubber.add_response(
        "update_function_configuration",
        _configuration(LoggingConfig={"LogFormat": "Text"}),
        {"FunctionName": NAME, "RevisionId": REVISION, "LoggingConfig": {"LogFormat": "Text"}},
    )
    stubber.add_response("get_function", _get_function())
    stubber.add_response(
        "get_function_configuration", _configuration(LoggingConfig={"LogFormat": "Text"})
    )
    apply_change(undo, context)


def test_log_level_is_stale_when_the_format_moved(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration(LoggingConfig=JSON_WARN))
    with pytest.raises(StaleChangeError, match=r"is JSON format .* now, not the Text format"):
        apply_change(TO_JSON_WARN, context)


def test_log_level_read_back_that_differs_is_reported(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    stubber.add_response("get_function_configuration", _configuration())
    stubber.add_response("update_function_configuration", _configuration())
    stubber.add_response("get_function", _get_function())
    stubber.add_response("get_function_configuration", _configuration())
    with pytest.raises(ChangeVerificationError, match="reads Text format instead of JSON"):
        apply_change(TO_JSON_WARN, context)


def test_tracing_goes_to_pass_through(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    change = TracingChange(
        function_name=NAME, before=TracingMode.ACTIVE, after=TracingMode.PASS_THROUGH
    )
    stubber.add_response(
        "get_function_configuration", _configuration(TracingConfig={"Mode": "Active"})
    )
    stubber.add_response(
        "update_function_configuration",
        _configuration(TracingConfig={"Mode": "PassThrough"}),
        {"FunctionName": NAME, "RevisionId": REVISION, "TracingConfig": {"Mode": "PassThrough"}},
    )
    stubber.add_response("get_function", _get_function())
    stubber.add_response(
        "get_function_configuration", _configuration(TracingConfig={"Mode": "PassThrough"})
    )
    assert apply_change(change, context).change == change


def test_tracing_is_stale_when_already_off(stubbed) -> None:  # type: ignore[no-untyped-def]
    context, stubber = stubbed
    change = TracingChange(
        function_name=NAME, before=TracingMode.ACTIVE, after=TracingMode.PASS_THROUGH
    )
    stubber.add_response(
        "get_function_configuration", _configuration(TracingConfig={"Mode": "PassThrough"})
    )
    with pytest.raises(StaleChangeError, match="is PassThrough now, not the Active"):
        apply_change(change, context)

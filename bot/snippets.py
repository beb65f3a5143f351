"""The same change as a SAM and a CloudFormation template snippet.

Functions deployed with CloudFormation, SAM or CDK drift when changed from Slack; the Details
modal shows the template edit that makes the change permanent. Pure: no I/O, values quoted
as JSON strings (valid YAML).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from recommendations.changes import (
    ArchitectureChange,
    AsyncFailureDestinationChange,
    Change,
    EphemeralStorageChange,
    EventSourceMappingChange,
    LoggingSettings,
    LogLevelChange,
    LogRetentionChange,
    MemoryChange,
    ProvisionedConcurrencyChange,
    ReservedConcurrencyChange,
    TimeoutChange,
    TracingChange,
)
from recommendations.snapshot import Frozen, LogFormat


class TemplateSnippet(Frozen):
    sam: str
    cloudformation: str


def logical_id(function_name: str) -> str:
    """A plausible logical id; the real one is in the stack, which the note names."""
    words = re.split(r"[^A-Za-z0-9]+", function_name)
    name = "".join(word[:1].upper() + word[1:] for word in words if word)
    return name if name and name[0].isalpha() else f"Function{name}"


def _quoted(value: str) -> str:
    return json.dumps(value)


def _indent(lines: list[str], spaces: int) -> list[str]:
    return [" " * spaces + line for line in lines]


def _function_properties(resource: str, kind: str, properties: list[str]) -> str:
    return "\n".join([f"{resource}:", f"  Type: {kind}", "  Properties:", *_indent(properties, 4)])


def _mapping_properties(change: EventSourceMappingChange, *, sam: bool) -> list[str]:
    settings, changed = change.after, change.changed_fields
    lines: list[str] = []
    if "batch_size" in changed and settings.batch_size is not None:
        lines.append(f"BatchSize: {settings.batch_size}")
    if "maximum_batching_window_s" in changed and settings.maximum_batching_window_s is not None:
        lines.append(f"MaximumBatchingWindowInSeconds: {settings.maximum_batching_window_s}")
    if "report_batch_item_failures" in changed:
        types = '["ReportBatchItemFailures"]' if settings.report_batch_item_failures else "[]"
        lines.append(f"FunctionResponseTypes: {types}")
    if "maximum_retry_attempts" in changed:
        retries = settings.maximum_retry_attempts
        lines.append(f"MaximumRetryAttempts: {-1 if retries is None else retries}")
    if "maximum_record_age_s" in changed:
        age = settings.maximum_record_age_s
        lines.append(f"MaximumRecordAgeInSeconds: {-1 if age is None else age}")
    if "bisect_batch_on_function_error" in changed:
        bisect = "true" if settings.bisect_batch_on_function_error else "false"
        lines.append(f"BisectBatchOnFunctionError: {bisect}")
    destination = settings.on_failure_destination
    if "on_failure_destination" in changed and destination:
        target = _quoted(destination)
        if change.create_queue_name:
            target = f"!GetAtt {logical_id(change.create_queue_name)}.Arn"
        lines += ["DestinationConfig:", "  OnFailure:"]
        if sam and destination.split(":")[2:3] == ["sqs"]:
            # SAM then grants the function's role sqs:SendMessage on the queue.
            lines.append("    Type: SQS")
        lines.append(f"    Destination: {target}")
    elif "on_failure_destination" in changed:
        lines.append("# remove DestinationConfig (no on-failure destination)")
    return lines


def _created_queue(queue_name: str | None) -> list[str]:
    if not queue_name:
        return []
    return [
        f"{logical_id(queue_name)}:",
        "  Type: AWS::SQS::Queue",
        "  Properties:",
        f"    QueueName: {_quoted(queue_name)}",
        "    SqsManagedSseEnabled: true",
        "    MessageRetentionPeriod: 1209600",
    ]


def _async_properties(change: AsyncFailureDestinationChange) -> list[str]:
    lines = [
        f"MaximumRetryAttempts: {change.after.maximum_retry_attempts}",
        f"MaximumEventAgeInSeconds: {change.after.maximum_event_age_s}",
    ]
    destination = change.after.on_failure_destination
    if change.create_queue_name:
        destination = f"!GetAtt {logical_id(change.create_queue_name)}.Arn"
        lines += ["DestinationConfig:", "  OnFailure:", f"    Destination: {destination}"]
    elif destination:
        lines += ["DestinationConfig:", "  OnFailure:", f"    Destination: {_quoted(destination)}"]
    return lines


_SAM_FUNCTION, _CFN_FUNCTION = "AWS::Serverless::Function", "AWS::Lambda::Function"


class NoSnippetError(TypeError):
    """A change type without its own renderer: another type's edit would be a wrong one."""


def _logging_config(settings: LoggingSettings) -> list[str]:
    lines = ["LoggingConfig:", f"  LogFormat: {settings.log_format.value}"]
    if settings.log_format is LogFormat.JSON:
        if settings.application_log_level is not None:
            lines.append(f"  ApplicationLogLevel: {settings.application_log_level.value}")
        if settings.system_log_level is not None:
            lines.append(f"  SystemLogLevel: {settings.system_log_level.value}")
    return lines


def _function_snippet(
    change: Change, sam: list[str], cloudformation: list[str] | None = None
) -> TemplateSnippet:
    """The function resource with the properties the change sets (the same in both unless
    ``cloudformation`` differs)."""
    resource = logical_id(change.function_name)
    return TemplateSnippet(
        sam=_function_properties(resource, _SAM_FUNCTION, sam),
        cloudformation=_function_properties(
            resource, _CFN_FUNCTION, sam if cloudformation is None else cloudformation
        ),
    )


def _memory(change: MemoryChange) -> TemplateSnippet:
    return _function_snippet(change, [f"MemorySize: {change.after}"])


def _timeout(change: TimeoutChange) -> TemplateSnippet:
    return _function_snippet(change, [f"Timeout: {change.after}"])


def _ephemeral_storage(change: EphemeralStorageChange) -> TemplateSnippet:
    return _function_snippet(change, ["EphemeralStorage:", f"  Size: {change.after}"])


def _architecture(change: ArchitectureChange) -> TemplateSnippet:
    return _function_snippet(change, ["Architectures:", f"  - {change.after.value}"])


def _log_level(change: LogLevelChange) -> TemplateSnippet:
    return _function_snippet(change, _logging_config(change.after))


def _tracing(change: TracingChange) -> TemplateSnippet:
    # SAM's shorthand is a string; CloudFormation nests it.
    return _function_snippet(
        change,
        [f"Tracing: {change.after.value}"],
        ["TracingConfig:", f"  Mode: {change.after.value}"],
    )


def _reserved_concurrency(change: ReservedConcurrencyChange) -> TemplateSnippet:
    if change.after is None:
        return _function_snippet(change, ["# remove ReservedConcurrentExecutions (unreserved)"])
    return _function_snippet(change, [f"ReservedConcurrentExecutions: {change.after}"])


def _provisioned_concurrency(change: ProvisionedConcurrencyChange) -> TemplateSnippet:
    resource = logical_id(change.function_name)
    sam_props = [
        f"AutoPublishAlias: {_quoted(change.qualifier)}",
        "ProvisionedConcurrencyConfig:",
        f"  ProvisionedConcurrentExecutions: {change.after}",
    ]
    alias = f"{resource}{logical_id(change.qualifier)}Alias"
    cfn = "\n".join(
        [
            f"{alias}:",
            "  Type: AWS::Lambda::Alias",
            "  Properties:",
            f"    FunctionName: !Ref {resource}",
            f"    Name: {_quoted(change.qualifier)}",
            "    FunctionVersion: !GetAtt CurrentVersion.Version  # your published version",
            "    ProvisionedConcurrencyConfig:",
            f"      ProvisionedConcurrentExecutions: {change.after}",
        ]
    )
    return TemplateSnippet(
        sam=_function_properties(resource, _SAM_FUNCTION, sam_props), cloudformation=cfn
    )


def _event_source_mapping(change: EventSourceMappingChange) -> TemplateSnippet:
    resource = logical_id(change.function_name)
    source = change.source_name
    queue = _created_queue(change.create_queue_name)
    role_note = []
    if "on_failure_destination" in change.changed_fields and change.create_queue_name:
        role_note = [
            f"# {resource}'s execution role also needs sqs:SendMessage on "
            f"{logical_id(change.create_queue_name)}."
        ]
    sam = "\n".join(
        [
            *queue,
            f"{resource}:",
            f"  Type: {_SAM_FUNCTION}",
            "  Properties:",
            "    Events:",
            f"      {logical_id(source)}:  # the event whose source is {source}",
            "        Properties:",
            *_indent(_mapping_properties(change, sam=True), 10),
        ]
    )
    cfn = "\n".join(
        [
            *queue,
            *role_note,
            f"{resource}{logical_id(source)}Mapping:",
            "  Type: AWS::Lambda::EventSourceMapping",
            "  Properties:",
            f"    FunctionName: !Ref {resource}",
            f"    EventSourceArn: {_quoted(change.source_arn)}",
            *_indent(_mapping_properties(change, sam=False), 4),
        ]
    )
    return TemplateSnippet(sam=sam, cloudformation=cfn)


def _async_failure_destination(change: AsyncFailureDestinationChange) -> TemplateSnippet:
    resource = logical_id(change.function_name)
    props = _async_properties(change)
    queue = _created_queue(change.create_queue_name)
    sam = "\n".join(
        [
            *queue,
            f"{resource}:",
            f"  Type: {_SAM_FUNCTION}",
            "  Properties:",
            "    EventInvokeConfig:",
            *_indent(props, 6),
        ]
    )
    cfn = "\n".join(
        [
            *queue,
            f"{resource}EventInvokeConfig:",
            "  Type: AWS::Lambda::EventInvokeConfig",
            "  Properties:",
            f"    FunctionName: !Ref {resource}",
            '    Qualifier: "$LATEST"',
            *_indent(props, 4),
        ]
    )
    return TemplateSnippet(sam=sam, cloudformation=cfn)


def _log_group(change: LogRetentionChange) -> TemplateSnippet:
    """The same in SAM and CloudFormation: a log group resource with its retention."""
    retention = (
        [f"    RetentionInDays: {change.after}"]
        if change.after is not None
        else ["    # remove RetentionInDays (never expire)"]
    )
    text = "\n".join(
        [
            f"{logical_id(change.log_group)}:",
            "  Type: AWS::Logs::LogGroup",
            "  Properties:",
            f"    LogGroupName: {_quoted(change.log_group)}",
            *retention,
        ]
    )
    return TemplateSnippet(sam=text, cloudformation=text)


# Each Change type's renderer. Values are typed loosely: each takes its own key's type, which a
# dict type cannot say; ``snippet_for`` looks up by the exact type, so they always match.
RENDERERS: dict[type[Any], Callable[[Any], TemplateSnippet]] = {
    MemoryChange: _memory,
    TimeoutChange: _timeout,
    EphemeralStorageChange: _ephemeral_storage,
    ArchitectureChange: _architecture,
    LogLevelChange: _log_level,
    TracingChange: _tracing,
    ReservedConcurrencyChange: _reserved_concurrency,
    ProvisionedConcurrencyChange: _provisioned_concurrency,
    EventSourceMappingChange: _event_source_mapping,
    AsyncFailureDestinationChange: _async_failure_destination,
    LogRetentionChange: _log_group,
}


def snippet_for(change: Change) -> TemplateSnippet:
    """The template edit equivalent to ``change`` (its ``after`` state)."""
    render = RENDERERS.get(type(change))
    if render is None:
        raise NoSnippetError(
            f"no template snippet for {type(change).__name__}: add its renderer to "
            "bot.snippets.RENDERERS."
        )
    return render(change)

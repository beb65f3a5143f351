"""Event source mapping settings: ``UpdateEventSourceMapping`` with only the changed fields.

A stream mapping's on-failure destination may be a queue the change creates (encrypted, as for
async failures). Lambda sends failure records with the function's execution role, which then
needs ``sqs:SendMessage`` on the queue; tunebot grants it only when allowed to change IAM (see
``failure_queue``), otherwise the result says what to add.
"""

from __future__ import annotations

from typing import Any

from aws.appliers import failure_queue
from aws.appliers.base import (
    ApplyContext,
    ApplyOutcome,
    ChangeKind,
    call,
    iam_actions_of,
    request_ids,
)
from aws.appliers.errors import (
    ChangeVerificationError,
    ResourceBusyError,
    ResourceMissingError,
    StaleChangeError,
)
from aws.store import function_name_of
from recommendations.changes import EventSourceMappingChange, EventSourceMappingSettings

QUEUE_PURPOSE = "stream-failure-destination"

_REPORT_FAILURES = "ReportBatchItemFailures"
_BUSY_STATES = frozenset({"Creating", "Updating", "Deleting", "Enabling", "Disabling"})


def settings_from_aws(mapping: dict[str, Any]) -> EventSourceMappingSettings:
    """The tunebot view of a mapping as GetEventSourceMapping returns it."""
    retries = mapping.get("MaximumRetryAttempts")
    age = mapping.get("MaximumRecordAgeInSeconds")
    return EventSourceMappingSettings(
        batch_size=mapping.get("BatchSize"),
        maximum_batching_window_s=mapping.get("MaximumBatchingWindowInSeconds"),
        report_batch_item_failures=_REPORT_FAILURES in mapping.get("FunctionResponseTypes", []),
        # AWS says -1 for "retry until the record expires"; tunebot says None.
        maximum_retry_attempts=None if retries is None or retries < 0 else retries,
        bisect_batch_on_function_error=mapping.get("BisectBatchOnFunctionError"),
        on_failure_destination=mapping.get("DestinationConfig", {})
        .get("OnFailure", {})
        .get("Destination")
        or None,
        maximum_record_age_s=None if age is None or age < 0 else age,
    )


_LABELS = {
    "batch_size": "batch size",
    "maximum_batching_window_s": "batching window (s)",
    "report_batch_item_failures": "report batch item failures",
    "maximum_retry_attempts": "maximum retry attempts",
    "bisect_batch_on_function_error": "bisect batch on error",
    "on_failure_destination": "on-failure destination",
    "maximum_record_age_s": "maximum record age (s)",
}


_UNSET = {
    "maximum_retry_attempts": "unlimited",
    "maximum_record_age_s": "unlimited",
    "on_failure_destination": "none",
}


def _show(settings: EventSourceMappingSettings, name: str) -> str:
    value = _normalised(settings, name)
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return _UNSET.get(name, "unset")
    return str(value)


def _normalised(settings: EventSourceMappingSettings, name: str) -> Any:
    """Values that mean the same to AWS compare equal (unset window is 0, -1 retries is None)."""
    value = getattr(settings, name)
    if name in ("maximum_retry_attempts", "maximum_record_age_s") and value is not None:
        return None if value < 0 else value
    if name == "maximum_batching_window_s" and value is None:
        return 0
    if name == "bisect_batch_on_function_error" and value is None:
        return False
    return value


def aws_parameters(settings: EventSourceMappingSettings, fields: tuple[str, ...]) -> dict[str, Any]:
    """UpdateEventSourceMapping parameters that set ``fields`` to the values in ``settings``."""
    parameters: dict[str, Any] = {}
    for name in fields:
        value = getattr(settings, name)
        if name == "batch_size":
            parameters["BatchSize"] = value
        elif name == "maximum_batching_window_s":
            parameters["MaximumBatchingWindowInSeconds"] = value or 0
        elif name == "report_batch_item_failures":
            parameters["FunctionResponseTypes"] = [_REPORT_FAILURES] if value else []
        elif name == "maximum_retry_attempts":
            parameters["MaximumRetryAttempts"] = -1 if value is None else value
        elif name == "bisect_batch_on_function_error":
            parameters["BisectBatchOnFunctionError"] = bool(value)
        elif name == "maximum_record_age_s":
            parameters["MaximumRecordAgeInSeconds"] = -1 if value is None else value
        elif name == "on_failure_destination":
            # An empty Destination removes it (the model allows ""); an empty OnFailure is
            # refused: "The Destination field is required for an OnFailure configuration."
            parameters["DestinationConfig"] = {"OnFailure": {"Destination": value or ""}}
    return parameters


def apply_event_source_mapping(
    change: EventSourceMappingChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,  # mappings have no revision; kept for one signature
    function_id: str | None = None,
) -> ApplyOutcome:
    client = context.lambda_client
    source = change.source_name
    doing = f"read the {source} trigger of {change.function_name}"
    mapping = call(client.get_event_source_mapping, doing, UUID=change.mapping_uuid)
    mapped_to = mapping.get("FunctionArn", "")
    expected = function_id if function_id and function_id.startswith("arn:") else None
    # A mapping may target an alias or version: arn:…:function:name:alias.
    other_function = expected and not (
        mapped_to == expected or mapped_to.startswith(expected + ":")
    )
    if other_function or function_name_of(mapped_to) != change.function_name:
        raise ResourceMissingError(
            f"The {source} trigger {change.mapping_uuid} no longer invokes "
            f"{change.function_name}; nothing was changed."
        )
    if mapping.get("State") in _BUSY_STATES:
        raise ResourceBusyError(
            f"The {source} trigger of {change.function_name} is {mapping['State'].lower()} "
            "right now; nothing was changed, try again in a minute."
        )
    current = settings_from_aws(mapping)
    fields = change.changed_fields
    moved = [
        name for name in fields if _normalised(current, name) != _normalised(change.before, name)
    ]
    if moved:
        shown = "; ".join(
            f"{_LABELS[name]} is {_show(current, name)}, not {_show(change.before, name)}"
            for name in moved
        )
        raise StaleChangeError(
            f"The {source} trigger of {change.function_name} changed since the recommendation: "
            f"{shown}; nothing was changed. Run the analysis again."
        )
    applied, notes = change, []
    after_settings = change.after
    if change.create_queue_name:
        _, queue_arn = failure_queue.ensure_queue(
            context, change.create_queue_name, change.function_name, QUEUE_PURPOSE
        )
        after_settings = after_settings.model_copy(update={"on_failure_destination": queue_arn})
        applied = change.model_copy(update={"after": after_settings})
        notes.append(
            f"Failed batches' records go to the encrypted SQS queue {queue_arn} (kept 14 days)."
        )
    destination = after_settings.on_failure_destination
    granted = False
    # arn:partition:sqs:region:account:name; SNS topics need sns:Publish, which tunebot never
    # proposes, so only queues get the grant or the note.
    to_queue = bool(destination) and str(destination).split(":")[2:3] == ["sqs"]
    if "on_failure_destination" in fields and destination and to_queue:
        if context.allow_iam_changes:
            target = function_id or change.function_name
            role = failure_queue.grant_send(context, target, change.function_name, destination)
            granted = True
            notes.append(f"Granted sqs:SendMessage on the queue to the role {role}.")
        else:
            notes.append(failure_queue.send_permission_note(destination))
    updated = failure_queue.call_with_permission_retry(
        context,
        client.update_event_source_mapping,
        f"update the {source} trigger of {change.function_name}",
        destination=destination,
        retry=granted,
        UUID=change.mapping_uuid,
        **aws_parameters(after_settings, fields),
    )
    after, settled = _wait_until_settled(context, doing, change.mapping_uuid)
    now = settings_from_aws(after)
    wrong = [name for name in fields if _normalised(now, name) != _normalised(after_settings, name)]
    if wrong:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the {source} trigger of {change.function_name} reads "
            + ", ".join(f"{_LABELS[name]} {_show(now, name)}" for name in wrong)
            + "; check the trigger."
        )
    if not settled:
        notes.append(
            f"The {source} trigger was still {after.get('State', 'updating').lower()} when "
            "tunebot stopped watching; its settings already read as applied."
        )
    if change.before.on_failure_destination and not after_settings.on_failure_destination:
        notes.append("The previous destination queue was kept, with any records in it.")
    return ApplyOutcome(
        change=applied,
        request_ids=request_ids(mapping, updated, after),
        notes=tuple(notes),
    )


def _wait_until_settled(
    context: ApplyContext, doing: str, uuid: str
) -> tuple[dict[str, Any], bool]:
    """Read the mapping until it leaves Updating (AWS applies mapping updates asynchronously);
    returns the last read and whether it settled. There is no botocore waiter for mappings."""
    attempts = max(1, context.waiter_max_attempts)
    for attempt in range(attempts):
        mapping = call(context.lambda_client.get_event_source_mapping, doing, UUID=uuid)
        if mapping.get("State") not in _BUSY_STATES:
            return mapping, True
        if attempt + 1 < attempts:
            context.sleep(float(context.waiter_delay_s))
    return mapping, False


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(
        EventSourceMappingChange,
        apply_event_source_mapping,
        (
            "lambda:GetEventSourceMapping",
            "lambda:UpdateEventSourceMapping",
            *failure_queue.IAM_ACTIONS,
        ),
    ),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)

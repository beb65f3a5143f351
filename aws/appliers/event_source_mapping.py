"""Event source mapping settings: ``UpdateEventSourceMapping`` with only the changed fields."""

from __future__ import annotations

from typing import Any

from aws.appliers.base import ApplyContext, ApplyOutcome, call, request_ids
from aws.appliers.errors import (
    ChangeVerificationError,
    ResourceBusyError,
    ResourceMissingError,
    StaleChangeError,
)
from aws.store import function_name_of
from recommendations.changes import EventSourceMappingChange, EventSourceMappingSettings

IAM_ACTIONS: tuple[str, ...] = (
    "lambda:GetEventSourceMapping",
    "lambda:UpdateEventSourceMapping",
)

_REPORT_FAILURES = "ReportBatchItemFailures"
_BUSY_STATES = frozenset({"Creating", "Updating", "Deleting", "Enabling", "Disabling"})


def settings_from_aws(mapping: dict[str, Any]) -> EventSourceMappingSettings:
    """The tunebot view of a mapping as GetEventSourceMapping returns it."""
    retries = mapping.get("MaximumRetryAttempts")
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
    )


_LABELS = {
    "batch_size": "batch size",
    "maximum_batching_window_s": "batching window (s)",
    "report_batch_item_failures": "report batch item failures",
    "maximum_retry_attempts": "maximum retry attempts",
    "bisect_batch_on_function_error": "bisect batch on error",
    "on_failure_destination": "on-failure destination",
}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "unset" if value is None else str(value)


def _normalised(settings: EventSourceMappingSettings, name: str) -> Any:
    """Values that mean the same to AWS compare equal (unset window is 0, -1 retries is None)."""
    value = getattr(settings, name)
    if name == "maximum_retry_attempts" and value is not None and value < 0:
        return None
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
        elif name == "on_failure_destination":
            # An empty OnFailure removes the destination.
            parameters["DestinationConfig"] = {"OnFailure": {"Destination": value} if value else {}}
    return parameters


def apply_event_source_mapping(
    change: EventSourceMappingChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,  # mappings have no revision; kept for one signature
    function_id: str | None = None,
) -> ApplyOutcome:
    client = context.lambda_client
    source = change.source_arn.rsplit(":", 1)[-1]
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
            f"{_LABELS[name]} is {_show(getattr(current, name))}, "
            f"not {_show(getattr(change.before, name))}"
            for name in moved
        )
        raise StaleChangeError(
            f"The {source} trigger of {change.function_name} changed since the recommendation: "
            f"{shown}; nothing was changed. Run the analysis again."
        )
    updated = context.call(
        client.update_event_source_mapping,
        f"update the {source} trigger of {change.function_name}",
        UUID=change.mapping_uuid,
        **aws_parameters(change.after, fields),
    )
    after = call(client.get_event_source_mapping, doing, UUID=change.mapping_uuid)
    now = settings_from_aws(after)
    wrong = [name for name in fields if _normalised(now, name) != _normalised(change.after, name)]
    if wrong:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the {source} trigger of {change.function_name} reads "
            + ", ".join(f"{_LABELS[name]} {_show(getattr(now, name))}" for name in wrong)
            + "; check the trigger."
        )
    return ApplyOutcome(change=change, request_ids=request_ids(mapping, updated, after))

"""Memory and timeout: ``UpdateFunctionConfiguration`` guarded by the function's RevisionId."""

from __future__ import annotations

from typing import Any

from aws.appliers.base import (
    ApplyContext,
    ApplyOutcome,
    ChangeKind,
    call,
    iam_actions_of,
    request_ids,
)
from aws.appliers.errors import ChangeVerificationError, ResourceBusyError, StaleChangeError
from recommendations.changes import MemoryChange, TimeoutChange

# What an UpdateFunctionConfiguration applier needs (also ephemeral storage, logging, tracing).
FUNCTION_CONFIGURATION_ACTIONS: tuple[str, ...] = (
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionConfiguration",
    # The function_updated_v2 waiter polls GetFunction.
    "lambda:GetFunction",
)

_FIELDS: dict[str, tuple[str, str, str]] = {
    # kind -> (AWS field, what it is called, unit)
    "memory": ("MemorySize", "memory", "MB"),
    "timeout": ("Timeout", "timeout", "s"),
}


def check_revision(
    function_name: str, configuration: dict[str, Any], expected_revision_id: str | None
) -> None:
    """Stale when the function changed in any way since the recommendation was computed."""
    current = configuration.get("RevisionId")
    if expected_revision_id and current and current != expected_revision_id:
        raise StaleChangeError(
            f"{function_name} was modified after the recommendation was computed (its revision "
            "moved); nothing was changed. Run the analysis again to get a fresh recommendation."
        )


def revision_guard(configuration: dict[str, Any]) -> dict[str, str]:
    """``RevisionId`` for the update call: AWS refuses it if the function moved since the read."""
    revision = configuration.get("RevisionId")
    return {"RevisionId": revision} if revision else {}


def check_not_updating(function_name: str, configuration: dict[str, Any]) -> None:
    if configuration.get("LastUpdateStatus") == "InProgress":
        raise ResourceBusyError(
            f"{function_name} is being updated right now; nothing was changed, try again in a "
            "minute."
        )


def apply_configuration(
    change: MemoryChange | TimeoutChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    field, label, unit = _FIELDS[change.kind]
    client = context.lambda_client

    def read_idle() -> dict[str, Any]:
        read = call(
            client.get_function_configuration,
            f"read the configuration of {name}",
            FunctionName=target,
        )
        check_not_updating(name, read)
        return read

    # An update still being applied (a deployment, another change) is waited out, bounded.
    current = context.when_idle(read_idle)
    check_revision(name, current, expected_revision_id)
    if current.get(field) != change.before:
        raise StaleChangeError(
            f"The {label} of {name} is {current.get(field)} {unit} now, not the "
            f"{change.before} {unit} the recommendation was computed from; nothing was changed. "
            "Run the analysis again."
        )
    updated = context.call(
        client.update_function_configuration,
        f"update the {label} of {name}",
        FunctionName=target,
        **revision_guard(current),
        **{field: change.after},
    )
    context.wait_until_updated(target)
    after = context.call(
        client.get_function_configuration,
        f"read back the configuration of {name}",
        FunctionName=target,
    )
    if after.get(field) != change.after:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the {label} of {name} reads {after.get(field)} {unit} "
            f"instead of {change.after} {unit}; check the function."
        )
    return ApplyOutcome(
        change=change,
        request_ids=request_ids(current, updated, after),
        revision_before=current.get("RevisionId"),
        revision_id=after.get("RevisionId"),
    )


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(MemoryChange, apply_configuration, FUNCTION_CONFIGURATION_ACTIONS),
    ChangeKind(TimeoutChange, apply_configuration, FUNCTION_CONFIGURATION_ACTIONS),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)

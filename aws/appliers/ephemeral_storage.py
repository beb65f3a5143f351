"""Ephemeral storage (/tmp): ``UpdateFunctionConfiguration(EphemeralStorage={"Size": MB})``,
guarded by the function's RevisionId like memory and timeout."""

from __future__ import annotations

from typing import Any

from aws.appliers.base import ApplyContext, ApplyOutcome, ChangeKind, iam_actions_of, request_ids
from aws.appliers.configuration import (
    FUNCTION_CONFIGURATION_ACTIONS,
    check_not_updating,
    check_revision,
    revision_guard,
)
from aws.appliers.errors import ChangeVerificationError, StaleChangeError
from recommendations.changes import MIN_EPHEMERAL_STORAGE_MB, EphemeralStorageChange


def storage_mb(configuration: dict[str, Any]) -> int:
    """The configured /tmp size; AWS leaves ``EphemeralStorage`` out for the default 512 MB."""
    size = (configuration.get("EphemeralStorage") or {}).get("Size")
    return int(size) if size is not None else MIN_EPHEMERAL_STORAGE_MB


def apply_ephemeral_storage(
    change: EphemeralStorageChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    client = context.lambda_client
    current = context.call(
        client.get_function_configuration,
        f"read the configuration of {name}",
        FunctionName=target,
    )
    check_not_updating(name, current)
    check_revision(name, current, expected_revision_id)
    if storage_mb(current) != change.before:
        raise StaleChangeError(
            f"The ephemeral storage of {name} is {storage_mb(current)} MB now, not the "
            f"{change.before} MB the recommendation was computed from; nothing was changed. "
            "Run the analysis again."
        )
    updated = context.call(
        client.update_function_configuration,
        f"update the ephemeral storage of {name}",
        FunctionName=target,
        EphemeralStorage={"Size": change.after},
        **revision_guard(current),
    )
    context.wait_until_updated(target)
    after = context.call(
        client.get_function_configuration,
        f"read back the configuration of {name}",
        FunctionName=target,
    )
    if storage_mb(after) != change.after:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the ephemeral storage of {name} reads "
            f"{storage_mb(after)} MB instead of {change.after} MB; check the function."
        )
    return ApplyOutcome(
        change=change,
        request_ids=request_ids(current, updated, after),
        revision_before=current.get("RevisionId"),
        revision_id=after.get("RevisionId"),
    )


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(EphemeralStorageChange, apply_ephemeral_storage, FUNCTION_CONFIGURATION_ACTIONS),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)

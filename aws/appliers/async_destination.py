"""Async failure destination: optionally an encrypted SQS queue, then the event invoke config.

Lambda delivers failed async events with the function's *execution role*, so that role needs
``sqs:SendMessage`` on the queue (and AWS checks it when the destination is configured).
tunebot changes IAM only when its configuration explicitly allows it; otherwise the result
says what to add.
"""

from __future__ import annotations

from typing import Any

from aws.appliers import failure_queue
from aws.appliers.base import ApplyContext, ApplyOutcome, ChangeKind, iam_actions_of, request_ids
from aws.appliers.errors import ChangeVerificationError, ResourceMissingError, StaleChangeError
from aws.appliers.failure_queue import (
    call_with_permission_retry,
    ensure_queue,
    grant_send,
    send_permission_note,
)
from recommendations.changes import AsyncFailureDestinationChange, AsyncSettings


def settings_from_aws(config: dict[str, Any] | None) -> AsyncSettings:
    if config is None:
        return AsyncSettings()
    destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return AsyncSettings(
        on_failure_destination=destination or None,
        maximum_retry_attempts=config.get("MaximumRetryAttempts", 2),
        maximum_event_age_s=config.get("MaximumEventAgeInSeconds", 21600),
    )


def _read_config(context: ApplyContext, target: str, name: str) -> dict[str, Any] | None:
    try:
        return context.call(
            context.lambda_client.get_function_event_invoke_config,
            f"read the async settings of {name}",
            FunctionName=target,
        )
    except ResourceMissingError:
        # No config: AWS defaults apply. A missing *function* shows up on the put.
        return None


def _put_config(
    context: ApplyContext,
    target: str,
    name: str,
    settings: AsyncSettings,
    on_success: dict[str, Any] | None,
    retry_permission: bool,
) -> dict[str, Any]:
    destinations: dict[str, Any] = {
        "OnFailure": {"Destination": settings.on_failure_destination}
        if settings.on_failure_destination
        else {}
    }
    if on_success:
        destinations["OnSuccess"] = on_success  # Put replaces everything: keep what was there
    return call_with_permission_retry(
        context,
        context.lambda_client.put_function_event_invoke_config,
        f"set the async settings of {name}",
        destination=settings.on_failure_destination,
        retry=retry_permission,
        FunctionName=target,
        MaximumRetryAttempts=settings.maximum_retry_attempts,
        MaximumEventAgeInSeconds=settings.maximum_event_age_s,
        DestinationConfig=destinations,
    )


def apply_async_destination(
    change: AsyncFailureDestinationChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,  # invoke configs have no revision
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    existing = _read_config(context, target, name)
    current = settings_from_aws(existing)
    if current != change.before:
        raise StaleChangeError(
            f"The async settings of {name} changed since the recommendation (failure "
            f"destination {current.on_failure_destination or 'none'}, retries "
            f"{current.maximum_retry_attempts}, max age {current.maximum_event_age_s} s); "
            "nothing was changed. Run the analysis again."
        )
    applied = change
    notes: list[str] = []
    after = change.after
    if change.create_queue_name:
        _, queue_arn = ensure_queue(
            context, change.create_queue_name, name, "async-failure-destination"
        )
        after = after.model_copy(update={"on_failure_destination": queue_arn})
        applied = change.model_copy(update={"after": after})
        notes.append(f"Failed events go to the encrypted SQS queue {queue_arn} (kept 14 days).")
    destination = after.on_failure_destination
    granted = False
    if destination and destination.startswith("arn:aws:sqs:"):
        if context.allow_iam_changes:
            role = grant_send(context, target, name, destination)
            granted = True
            notes.append(f"Granted sqs:SendMessage on the queue to the role {role}.")
        else:
            notes.append(send_permission_note(destination))
    on_success = (existing or {}).get("DestinationConfig", {}).get("OnSuccess") or None
    put = _put_config(context, target, name, after, on_success, retry_permission=granted)
    read_back = _read_config(context, target, name)
    if settings_from_aws(read_back) != after:
        raise ChangeVerificationError(
            f"AWS accepted the async settings of {name}, but reading them back shows "
            "different values; check the function."
        )
    if change.before.on_failure_destination and not after.on_failure_destination:
        notes.append("The previous destination queue was kept, with any messages in it.")
    responses = [response for response in (existing, put, read_back) if response]
    return ApplyOutcome(change=applied, request_ids=request_ids(*responses), notes=tuple(notes))


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(
        AsyncFailureDestinationChange,
        apply_async_destination,
        (
            "lambda:GetFunctionEventInvokeConfig",
            "lambda:PutFunctionEventInvokeConfig",
            *failure_queue.IAM_ACTIONS,
        ),
    ),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)

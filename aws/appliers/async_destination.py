"""Async failure destination: optionally an encrypted SQS queue, then the event invoke config.

Lambda delivers failed async events with the function's *execution role*, so that role needs
``sqs:SendMessage`` on the queue (and AWS checks it when the destination is configured).
tunebot changes IAM only when its configuration explicitly allows it; otherwise the result
says what to add.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.appliers.base import ApplyContext, ApplyOutcome, request_ids
from aws.appliers.errors import (
    ChangeError,
    ChangeVerificationError,
    ResourceMissingError,
    StaleChangeError,
    error_code,
    translate_error,
)
from recommendations.changes import AsyncFailureDestinationChange, AsyncSettings

IAM_ACTIONS: tuple[str, ...] = (
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:PutFunctionEventInvokeConfig",
    "sqs:CreateQueue",
    "sqs:GetQueueAttributes",
    "sqs:TagQueue",
)
# Only used when IAM changes are explicitly allowed; deliberately not in IAM_ACTIONS, so a
# default deployment cannot grant itself permissions.
OPTIONAL_IAM_ACTIONS: tuple[str, ...] = ("lambda:GetFunctionConfiguration", "iam:PutRolePolicy")

ROLE_POLICY_PREFIX = "tunebot-failure-destination-"
# The role policy needs a few seconds to be visible to Lambda's permission check.
_PUT_ATTEMPTS = 6
_PUT_RETRY_DELAY_S = 5.0


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


def _ensure_queue(context: ApplyContext, queue_name: str, function_name: str) -> tuple[str, str]:
    """Create the encrypted queue (CreateQueue is idempotent); returns (url, arn)."""
    sqs = context.sqs_client
    created = context.call(
        sqs.create_queue,
        f"create the SQS queue {queue_name}",
        QueueName=queue_name,
        Attributes={
            "SqsManagedSseEnabled": "true",
            # Keep failed events as long as SQS allows: 14 days.
            "MessageRetentionPeriod": "1209600",
        },
        tags={"tunebot:purpose": "async-failure-destination", "tunebot:function": function_name},
    )
    url = created["QueueUrl"]
    attributes = context.call(
        sqs.get_queue_attributes,
        f"read the SQS queue {queue_name}",
        QueueUrl=url,
        AttributeNames=["QueueArn"],
    )
    return url, attributes["Attributes"]["QueueArn"]


def _grant_send(context: ApplyContext, target: str, function_name: str, queue_arn: str) -> str:
    config = context.call(
        context.lambda_client.get_function_configuration,
        f"read the execution role of {function_name}",
        FunctionName=target,
    )
    role_name = str(config["Role"]).rsplit("/", 1)[-1]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}],
    }
    context.call(
        context.iam_client.put_role_policy,
        f"allow {function_name}'s role to send to {queue_arn}",
        RoleName=role_name,
        PolicyName=ROLE_POLICY_PREFIX + queue_arn.rsplit(":", 1)[-1],
        PolicyDocument=json.dumps(policy),
    )
    return role_name


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
    doing = f"set the async settings of {name}"
    for attempt in range(_PUT_ATTEMPTS):
        try:
            response: dict[str, Any] = context.lambda_client.put_function_event_invoke_config(
                FunctionName=target,
                MaximumRetryAttempts=settings.maximum_retry_attempts,
                MaximumEventAgeInSeconds=settings.maximum_event_age_s,
                DestinationConfig=destinations,
            )
            return response
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))
            if error_code(error) == "InvalidParameterValueException" and (
                "permission" in message.lower()
            ):
                if retry_permission and attempt + 1 < _PUT_ATTEMPTS:
                    context.sleep(_PUT_RETRY_DELAY_S)
                    continue
                raise ChangeError(
                    f"Could not {doing}: the function's execution role may not send to "
                    f"{settings.on_failure_destination}; grant it sqs:SendMessage on that queue "
                    "and apply again."
                ) from error
            raise translate_error(error, doing) from error
        except BotoCoreError as error:
            raise translate_error(error, doing) from error
    raise ChangeError(f"Could not {doing}.")  # pragma: no cover - the loop always returns


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
        _, queue_arn = _ensure_queue(context, change.create_queue_name, name)
        after = after.model_copy(update={"on_failure_destination": queue_arn})
        applied = change.model_copy(update={"after": after})
        notes.append(f"Failed events go to the encrypted SQS queue {queue_arn} (kept 14 days).")
    destination = after.on_failure_destination
    granted = False
    if destination and destination.startswith("arn:aws:sqs:"):
        if context.allow_iam_changes:
            role = _grant_send(context, target, name, destination)
            granted = True
            notes.append(f"Granted sqs:SendMessage on the queue to the role {role}.")
        else:
            notes.append(
                f"The function's execution role needs sqs:SendMessage on {destination}; "
                "tunebot did not change IAM (IAM changes are not allowed by its configuration)."
            )
    on_success = (existing or {}).get("DestinationConfig", {}).get("OnSuccess") or None
    put = context.when_idle(
        lambda: _put_config(context, target, name, after, on_success, retry_permission=granted)
    )
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

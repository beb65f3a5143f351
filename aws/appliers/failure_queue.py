"""Failure queues that appliers create, and the send permission their function's role needs.

Lambda delivers failure records (async events that ran out of retries, stream batches that ran
out of retries or age) with the function's *execution role*, so that role needs
``sqs:SendMessage`` on the queue. tunebot changes IAM only when its configuration explicitly
allows it; otherwise the applier's result says what to add.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.appliers.base import ApplyContext
from aws.appliers.errors import ChangeError, error_code, translate_error

IAM_ACTIONS: tuple[str, ...] = (
    "sqs:CreateQueue",
    "sqs:GetQueueAttributes",
    "sqs:TagQueue",
)
# Only used when IAM changes are explicitly allowed; deliberately not in IAM_ACTIONS, so a
# default deployment cannot grant itself permissions.
OPTIONAL_IAM_ACTIONS: tuple[str, ...] = ("lambda:GetFunctionConfiguration", "iam:PutRolePolicy")

ROLE_POLICY_PREFIX = "tunebot-failure-destination-"
# The role policy needs a few seconds to be visible to Lambda's permission check.
_ATTEMPTS = 6
_RETRY_DELAY_S = 5.0
# Keep failure records as long as SQS allows: 14 days.
RETENTION_S = 1209600


def ensure_queue(
    context: ApplyContext, queue_name: str, function_name: str, purpose: str
) -> tuple[str, str]:
    """Create the encrypted queue (CreateQueue is idempotent); returns (url, arn)."""
    sqs = context.sqs_client
    created = context.call(
        sqs.create_queue,
        f"create the SQS queue {queue_name}",
        QueueName=queue_name,
        Attributes={"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": str(RETENTION_S)},
        tags={"tunebot:purpose": purpose, "tunebot:function": function_name},
    )
    url = created["QueueUrl"]
    attributes = context.call(
        sqs.get_queue_attributes,
        f"read the SQS queue {queue_name}",
        QueueUrl=url,
        AttributeNames=["QueueArn"],
    )
    return url, attributes["Attributes"]["QueueArn"]


def grant_send(context: ApplyContext, target: str, function_name: str, queue_arn: str) -> str:
    """Allow the function's execution role to send to the queue; returns the role's name."""
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


def send_permission_note(destination: str) -> str:
    """What to add when tunebot may not change IAM itself."""
    return (
        f"The function's execution role needs sqs:SendMessage on {destination}; "
        "tunebot did not change IAM (IAM changes are not allowed by its configuration)."
    )


def call_with_permission_retry(
    context: ApplyContext,
    operation: Callable[..., Any],
    doing: str,
    *,
    destination: str | None,
    retry: bool,
    **kwargs: Any,
) -> dict[str, Any]:
    """Call the operation that sets ``destination``; when AWS answers that the execution role
    may not use it, wait for a just-granted policy to propagate (``retry``) or say what to grant.
    While an update of the resource is in progress the call is retried with back-off
    (``ApplyContext.when_idle``).
    """
    return context.when_idle(
        lambda: _with_permission_retry(
            context, operation, doing, destination=destination, retry=retry, **kwargs
        )
    )


def _with_permission_retry(
    context: ApplyContext,
    operation: Callable[..., Any],
    doing: str,
    *,
    destination: str | None,
    retry: bool,
    **kwargs: Any,
) -> dict[str, Any]:
    for attempt in range(_ATTEMPTS):
        try:
            response: dict[str, Any] = operation(**kwargs)
            return response
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))
            if error_code(error) == "InvalidParameterValueException" and (
                "permission" in message.lower()
            ):
                if retry and attempt + 1 < _ATTEMPTS:
                    context.sleep(_RETRY_DELAY_S)
                    continue
                raise ChangeError(
                    f"Could not {doing}: the function's execution role may not send to "
                    f"{destination}; grant it sqs:SendMessage on that queue and apply again."
                ) from error
            raise translate_error(error, doing) from error
        except BotoCoreError as error:
            raise translate_error(error, doing) from error
    raise ChangeError(f"Could not {doing}.")  # pragma: no cover - the loop always returns

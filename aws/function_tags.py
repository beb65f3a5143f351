"""A function's tags as they are now, for the decisions that must not trust a stored copy.

Who may apply a change (the managed tag, the policy's tag rules, the production two-approver
rule) is decided from the tags read when the change is applied, not from the tags stored with
the recommendation when ``/tune`` ran: someone may have untagged the function or marked it as
production since.

``ListTags`` rather than ``GetFunction``: AWS returns ``Tags`` in ``GetFunction`` only to callers
that are also allowed ``lambda:ListTags``, and leaves them out silently otherwise, which would
read as "no tags".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws.session import translate_errors

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_lambda import LambdaClient

IAM_ACTIONS: tuple[str, ...] = ("lambda:ListTags",)


def read_function_tags(client: LambdaClient, function_arn: str) -> dict[str, str]:
    """The function's tags now. Raises ``aws.errors`` subclasses (not found, denied, …)."""
    name = function_arn.split(":")[6] if function_arn.count(":") >= 6 else function_arn
    with translate_errors("read the tags of the function", function=name):
        response = client.list_tags(Resource=_unqualified(function_arn))
    return {str(key): str(value) for key, value in (response.get("Tags") or {}).items()}


def _unqualified(function_arn: str) -> str:
    """Tags belong to the function, not to a version or alias: drop any qualifier."""
    parts = function_arn.split(":")
    return (
        ":".join(parts[:7]) if function_arn.startswith("arn:") and len(parts) > 7 else function_arn
    )

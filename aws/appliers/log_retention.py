"""A log group's retention: ``PutRetentionPolicy``, or ``DeleteRetentionPolicy`` for "never
expire". Events a retention has already deleted are not brought back by undo."""

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
from aws.appliers.errors import (
    ChangeVerificationError,
    ResourceMissingError,
    StaleChangeError,
)
from recommendations.changes import LogRetentionChange


def _show(days: int | None) -> str:
    return "never expire" if days is None else f"{days} days"


def read_log_group(client: Any, group: str, doing: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The group as DescribeLogGroups reports it, and the response (for its request id).

    The prefix matches other groups too (``/aws/lambda/a`` and ``/aws/lambda/ab``), so pages
    are read until the exact name is found; names come back sorted.
    """
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupNamePrefix": group}
        if token:
            kwargs["nextToken"] = token
        response = call(client.describe_log_groups, doing, **kwargs)
        for found in response.get("logGroups", []):
            if found.get("logGroupName") == group:
                return found, response
        token = response.get("nextToken")
        if not token:
            raise ResourceMissingError(
                f"The log group {group} does not exist (any more); nothing was changed."
            )


def _retention(group: dict[str, Any]) -> int | None:
    days = group.get("retentionInDays")
    return int(days) if days else None


def apply_log_retention(
    change: LogRetentionChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,  # log groups have no revision
    function_id: str | None = None,
) -> ApplyOutcome:
    group = change.log_group
    client = context.logs_client
    current, described = read_log_group(client, group, f"read the log group {group}")
    now = _retention(current)
    if now != change.before:
        raise StaleChangeError(
            f"The retention of {group} is {_show(now)} now, not the {_show(change.before)} the "
            "recommendation was computed from; nothing was changed. Run the analysis again."
        )
    if change.after is None:
        updated = call(
            client.delete_retention_policy,
            f"remove the retention of {group}",
            logGroupName=group,
        )
    else:
        updated = call(
            client.put_retention_policy,
            f"set the retention of {group}",
            logGroupName=group,
            retentionInDays=change.after,
        )
    after, read_back = read_log_group(client, group, f"read back the log group {group}")
    if _retention(after) != change.after:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the retention of {group} reads "
            f"{_show(_retention(after))} instead of {_show(change.after)}; check the log group."
        )
    return ApplyOutcome(change=change, request_ids=request_ids(described, updated, read_back))


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(
        LogRetentionChange,
        apply_log_retention,
        ("logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy"),
    ),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)

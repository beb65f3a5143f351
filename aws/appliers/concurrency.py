"""Reserved concurrency (function level) and provisioned concurrency (per alias or version)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.appliers.base import ApplyContext, ApplyOutcome, ChangeKind, iam_actions_of, request_ids
from aws.appliers.errors import (
    ChangeVerificationError,
    StaleChangeError,
    error_code,
    translate_error,
)
from recommendations.changes import ProvisionedConcurrencyChange, ReservedConcurrencyChange


def _show(value: int | None) -> str:
    return "unreserved" if value is None else str(value)


def apply_reserved_concurrency(
    change: ReservedConcurrencyChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    client = context.lambda_client
    doing = f"read the reserved concurrency of {name}"
    current = context.call(client.get_function_concurrency, doing, FunctionName=target)
    value = current.get("ReservedConcurrentExecutions")
    if value != change.before:
        raise StaleChangeError(
            f"The reserved concurrency of {name} is {_show(value)} now, not "
            f"{_show(change.before)} as when the recommendation was computed; nothing was "
            "changed. Run the analysis again."
        )
    if change.after is None:
        updated = context.call(
            client.delete_function_concurrency,
            f"remove the reserved concurrency of {name}",
            FunctionName=target,
        )
    else:
        updated = context.call(
            client.put_function_concurrency,
            f"set the reserved concurrency of {name}",
            FunctionName=target,
            ReservedConcurrentExecutions=change.after,
        )
    after = context.call(client.get_function_concurrency, doing, FunctionName=target)
    if after.get("ReservedConcurrentExecutions") != change.after:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the reserved concurrency of {name} reads "
            f"{_show(after.get('ReservedConcurrentExecutions'))}; check the function."
        )
    return ApplyOutcome(change=change, request_ids=request_ids(current, updated, after))


def _requested_provisioned(
    context: ApplyContext, target: str, name: str, qualifier: str
) -> tuple[int, Mapping[str, Any] | None]:
    try:
        response = context.lambda_client.get_provisioned_concurrency_config(
            FunctionName=target, Qualifier=qualifier
        )
    except (ClientError, BotoCoreError) as error:
        # "Not found" is an answer (none configured); connection and credential errors are
        # translated like every other call's, not left to escape as a traceback.
        if isinstance(error, ClientError) and (
            error_code(error) == "ProvisionedConcurrencyConfigNotFoundException"
        ):
            return 0, None
        raise translate_error(
            error, f"read the provisioned concurrency of {name}:{qualifier}"
        ) from error
    return int(response.get("RequestedProvisionedConcurrentExecutions", 0)), response


def apply_provisioned_concurrency(
    change: ProvisionedConcurrencyChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name, qualifier = change.function_name, change.qualifier
    target = function_id or name
    client = context.lambda_client
    value, current = _requested_provisioned(context, target, name, qualifier)
    if value != change.before:
        raise StaleChangeError(
            f"The provisioned concurrency of {name}:{qualifier} is {value} now, not "
            f"{change.before} as when the recommendation was computed; nothing was changed. "
            "Run the analysis again."
        )
    if change.after == 0:
        updated = context.call(
            client.delete_provisioned_concurrency_config,
            f"remove the provisioned concurrency of {name}:{qualifier}",
            FunctionName=target,
            Qualifier=qualifier,
        )
    else:
        updated = context.call(
            client.put_provisioned_concurrency_config,
            f"set the provisioned concurrency of {name}:{qualifier}",
            FunctionName=target,
            Qualifier=qualifier,
            ProvisionedConcurrentExecutions=change.after,
        )
    now, after = _requested_provisioned(context, target, name, qualifier)
    if now != change.after:
        raise ChangeVerificationError(
            f"AWS accepted the update, but the provisioned concurrency of {name}:{qualifier} "
            f"reads {now}; check the function."
        )
    notes: tuple[str, ...] = ()
    if change.after:
        notes = ("Lambda allocates provisioned concurrency over a few minutes.",)
    responses = [r for r in (current, updated, after) if r]
    return ApplyOutcome(
        change=change,
        request_ids=request_ids(*responses),
        notes=notes,
    )


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(
        ReservedConcurrencyChange,
        apply_reserved_concurrency,
        (
            "lambda:GetFunctionConcurrency",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
        ),
    ),
    ChangeKind(
        ProvisionedConcurrencyChange,
        apply_provisioned_concurrency,
        (
            "lambda:GetProvisionedConcurrencyConfig",
            "lambda:PutProvisionedConcurrencyConfig",
            "lambda:DeleteProvisionedConcurrencyConfig",
        ),
    ),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)

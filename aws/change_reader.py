"""What a change's target reads now: did an earlier attempt take effect?

The change service writes an *intent* before it asks AWS for a change (``docs/state.md``). When
the attempt's outcome was never recorded (the process died, or the state table failed after
AWS accepted the update), the next attempt reads the resource here and compares it with the
intent's ``before`` and ``after``. Only reads; each one is already granted for the scan.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.appliers import async_destination, event_source_mapping
from aws.appliers.base import ApplyContext, call
from aws.appliers.errors import ResourceMissingError, error_code, translate_error
from recommendations.changes import Change
from service.records import ChangeObservation, Verdict

IAM_ACTIONS: tuple[str, ...] = (
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionConcurrency",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:GetEventSourceMapping",
)


def _live_value(change: Change, context: ApplyContext, target: str) -> Any:
    client = context.lambda_client
    name = change.function_name
    if change.kind in ("memory", "timeout", "architecture"):
        config = call(
            client.get_function_configuration,
            f"read the configuration of {name}",
            FunctionName=target,
        )
        if change.kind == "memory":
            return config.get("MemorySize")
        if change.kind == "timeout":
            return config.get("Timeout")
        return (config.get("Architectures") or ["x86_64"])[0]
    if change.kind == "reserved_concurrency":
        response = call(
            client.get_function_concurrency, f"read the concurrency of {name}", FunctionName=target
        )
        return response.get("ReservedConcurrentExecutions")
    if change.kind == "provisioned_concurrency":
        qualifier = getattr(change, "qualifier", "")
        try:
            provisioned = client.get_provisioned_concurrency_config(
                FunctionName=target, Qualifier=qualifier
            )
        except (ClientError, BotoCoreError) as error:
            if isinstance(error, ClientError) and (
                error_code(error) == "ProvisionedConcurrencyConfigNotFoundException"
            ):
                return 0
            raise translate_error(error, f"read the provisioned concurrency of {name}") from error
        return int(provisioned.get("RequestedProvisionedConcurrentExecutions", 0))
    if change.kind == "event_source_mapping":
        mapping = call(
            client.get_event_source_mapping,
            f"read a trigger of {name}",
            UUID=getattr(change, "mapping_uuid", ""),
        )
        return event_source_mapping.settings_from_aws(mapping).model_dump(mode="json")
    if change.kind == "async_failure_destination":
        invoke_config: dict[str, Any] | None
        try:
            invoke_config = call(
                client.get_function_event_invoke_config,
                f"read the async settings of {name}",
                FunctionName=target,
            )
        except ResourceMissingError:
            invoke_config = None
        return async_destination.settings_from_aws(invoke_config).model_dump(mode="json")
    raise ValueError(f"no reader for a {change.kind} change")


def observe(change: Change, context: ApplyContext, function_arn: str | None) -> ChangeObservation:
    """Whether ``change`` is in effect now. Raises ``ChangeError`` when the read fails."""
    dumped = change.model_dump(mode="json")
    value = _live_value(change, context, function_arn or change.function_name)
    if value == dumped["after"]:
        return ChangeObservation(verdict=Verdict.TOOK_EFFECT, value=value)
    if value == dumped["before"]:
        return ChangeObservation(verdict=Verdict.NO_EFFECT, value=value)
    return ChangeObservation(verdict=Verdict.NEITHER, value=value)

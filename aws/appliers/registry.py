"""Which applier handles which change, and the IAM actions all of them need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws.appliers import (
    architecture,
    async_destination,
    concurrency,
    configuration,
    ephemeral_storage,
    event_source_mapping,
    log_retention,
    logging_config,
)
from aws.appliers.base import ApplyContext, ApplyOutcome
from recommendations.changes import Change

_APPLIERS: dict[str, Callable[..., ApplyOutcome]] = {
    "memory": configuration.apply_configuration,
    "timeout": configuration.apply_configuration,
    "architecture": architecture.apply_architecture,
    "event_source_mapping": event_source_mapping.apply_event_source_mapping,
    "async_failure_destination": async_destination.apply_async_destination,
    "reserved_concurrency": concurrency.apply_reserved_concurrency,
    "provisioned_concurrency": concurrency.apply_provisioned_concurrency,
    "ephemeral_storage": ephemeral_storage.apply_ephemeral_storage,
    "log_level": logging_config.apply_log_level,
    "tracing": logging_config.apply_tracing,
    "log_retention": log_retention.apply_log_retention,
}

# Changes that also change the function's RevisionId, so a recorded revision can guard them.
REVISION_GUARDED_KINDS = frozenset(
    {"memory", "timeout", "architecture", "ephemeral_storage", "log_level", "tracing"}
)

IAM_ACTIONS: tuple[str, ...] = tuple(
    sorted(
        {
            action
            for module in (
                architecture,
                async_destination,
                concurrency,
                configuration,
                ephemeral_storage,
                event_source_mapping,
                log_retention,
                logging_config,
            )
            for action in module.IAM_ACTIONS
        }
    )
)


def apply_change(
    change: Change,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_arn: str | None = None,
) -> ApplyOutcome:
    """Apply one change after checking the resource still matches ``change.before``.

    ``expected_revision_id`` (the function's RevisionId when the recommendation was computed)
    additionally guards memory, timeout, ephemeral storage, architecture, logging and tracing
    changes: any modification of the function since then makes the change stale.
    ``function_arn``, when known, is what the calls address instead of the bare name, so a
    client for the wrong region or account gets an error instead of finding a namesake. Raises
    ``ChangeError`` subclasses; when one is raised before the update call, nothing was changed.
    """
    applier = _APPLIERS[change.kind]
    kwargs: dict[str, Any] = {"function_id": function_arn}
    if change.kind in REVISION_GUARDED_KINDS:
        kwargs["expected_revision_id"] = expected_revision_id
    return applier(change, context, **kwargs)

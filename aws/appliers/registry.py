"""Which applier handles which change, and the IAM actions all of them need.

Each applier module declares ``KINDS``: one :class:`ChangeKind` per ``Change`` type it applies.
tests/contracts/test_change_kinds.py fails when a ``Change`` type has none (or two).
"""

from __future__ import annotations

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
from aws.appliers.base import ApplyContext, ApplyOutcome, ChangeKind
from aws.appliers.errors import ChangeNotPossibleError
from recommendations.changes import Change

__all__ = ["IAM_ACTIONS", "KINDS", "ChangeKind", "apply_change", "kind_for"]

KINDS: tuple[ChangeKind[Any], ...] = (
    *configuration.KINDS,
    *architecture.KINDS,
    *event_source_mapping.KINDS,
    *async_destination.KINDS,
    *concurrency.KINDS,
    *ephemeral_storage.KINDS,
    *logging_config.KINDS,
    *log_retention.KINDS,
)

_BY_TYPE: dict[type[Any], ChangeKind[Any]] = {kind.change_type: kind for kind in KINDS}

IAM_ACTIONS: tuple[str, ...] = tuple(sorted({a for kind in KINDS for a in kind.iam_actions}))


def kind_for(change_type: type[Any]) -> ChangeKind[Any] | None:
    """The declaration for exactly this type (a subclass is a different change)."""
    return _BY_TYPE.get(change_type)


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
    changes: any modification of the function since then makes the change stale; appliers of
    resources without a revision ignore it. ``function_arn``, when known, is what the calls
    address instead of the bare name, so a client for the wrong region or account gets an error
    instead of finding a namesake. Raises ``ChangeError`` subclasses; when one is raised before
    the update call, nothing was changed.
    """
    kind = kind_for(type(change))
    if kind is None:
        raise ChangeNotPossibleError(
            f"tunebot has no applier for a {type(change).__name__}; nothing was changed."
        )
    return kind.apply(
        change, context, expected_revision_id=expected_revision_id, function_id=function_arn
    )

"""The change use case's ports (``service.ports``) over AWS: appliers, the change reader, the
state store. :func:`change_service` builds ``service.changes.ChangeService`` with them."""

from __future__ import annotations

import time
from collections.abc import Callable

from aws.appliers.base import ApplyContext
from aws.appliers.registry import apply_change
from aws.change_reader import observe
from recommendations.changes import Change
from service.changes import ChangeService
from service.ports import ChangeStore
from service.records import ApplyOutcome, ChangeObservation


def region_of(function_arn: str | None) -> str | None:
    """``arn:aws:lambda:<region>:<account>:function:<name>`` -> region."""
    if function_arn and function_arn.startswith("arn:"):
        parts = function_arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


class RegionalContexts:
    """The :class:`ApplyContext` a change runs with: one fixed ``context`` for every call, or
    one per region from ``context_for_region`` (created once, then reused) so each change goes
    to its function's region. A function whose region is unknown gets the default one."""

    def __init__(
        self,
        context: ApplyContext | None = None,
        *,
        context_for_region: Callable[[str], ApplyContext] | None = None,
    ) -> None:
        self._fixed_context = context
        self._default_context: ApplyContext | None = None
        self._context_for_region = context_for_region
        self._contexts: dict[str, ApplyContext] = {}

    @property
    def default(self) -> ApplyContext:
        """The given context, or the default-region one used when a region is unknown."""
        if self._fixed_context is not None:
            return self._fixed_context
        if self._default_context is None:
            self._default_context = ApplyContext()
        return self._default_context

    def for_function(self, function_arn: str | None) -> ApplyContext:
        region = region_of(function_arn)
        if self._fixed_context is not None or self._context_for_region is None or region is None:
            return self.default
        if region not in self._contexts:
            self._contexts[region] = self._context_for_region(region)
        return self._contexts[region]


class LambdaChangeApplier:
    """``service.ports.ChangeApplier``: the appliers of ``aws.appliers``, in the function's
    region. Their ``StaleChangeError`` and ``ChangeError`` are the port's ``StaleChange`` and
    ``ChangeFailed``."""

    def __init__(self, contexts: RegionalContexts) -> None:
        self.contexts = contexts

    def apply(
        self, change: Change, *, function_arn: str | None, expected_revision_id: str | None
    ) -> ApplyOutcome:
        return apply_change(
            change,
            self.contexts.for_function(function_arn),
            expected_revision_id=expected_revision_id,
            function_arn=function_arn,
        )


class LambdaChangeObserver:
    """``service.ports.ChangeObserver``: ``aws.change_reader``, in the function's region."""

    def __init__(self, contexts: RegionalContexts) -> None:
        self.contexts = contexts

    def observe(self, change: Change, function_arn: str | None) -> ChangeObservation:
        return observe(change, self.contexts.for_function(function_arn), function_arn)


def change_service(
    store: ChangeStore,
    context: ApplyContext | None = None,
    *,
    context_for_region: Callable[[str], ApplyContext] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ChangeService:
    """The change use case over AWS. Give it one ``context`` (all calls use its clients) or a
    ``context_for_region`` factory so each change runs against its function's region."""
    contexts = RegionalContexts(context, context_for_region=context_for_region)
    return ChangeService(
        store, LambdaChangeApplier(contexts), LambdaChangeObserver(contexts), sleep=sleep
    )

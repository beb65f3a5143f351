"""Apply and undo stored recommendations: at most once, stale-checked, always audited.

This is the one path from "someone approved recommendation X" to a changed function; the
Slack bot and the CLI both call it. Authorisation is the caller's job (Slack policy lives in
``bot/``); the service only records who acted (``actor``, e.g. ``"slack:U123"``,
``"cli:alice"``).

Every request ends in a :class:`ChangeResult` with one sentence for the person who asked. It
never leaves a change half-applied: an applier that fails before its update call changed
nothing, and one that fails after it is recorded as failed with the reason, so the next
attempt's stale check sees the real state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from enum import StrEnum

from aws.appliers.base import ApplyContext, ApplyOutcome
from aws.appliers.errors import ChangeError, StaleChangeError
from aws.appliers.registry import apply_change
from aws.store import (
    AuditAction,
    AuditRecord,
    AuditResult,
    ChangeRecord,
    ChangeStatus,
    Claim,
    ClaimStatus,
    StateStore,
    StoredRecommendation,
    StoreError,
)
from recommendations.changes import Change
from recommendations.snapshot import Frozen

logger = logging.getLogger(__name__)


class ResultKind(StrEnum):
    APPLIED = "applied"
    UNDONE = "undone"
    # Another click, retry or person already did it; nothing changed this time.
    ALREADY_DONE = "already_done"
    # Another request holds the claim right now; nothing changed this time.
    IN_PROGRESS = "in_progress"
    # The resource no longer matches what the change was computed from; nothing changed.
    STALE = "stale"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    # Advice without a change, or an undo of an undo.
    NOT_APPLICABLE = "not_applicable"

    @property
    def ok(self) -> bool:
        return self in (ResultKind.APPLIED, ResultKind.UNDONE, ResultKind.ALREADY_DONE)


class ChangeResult(Frozen):
    kind: ResultKind
    message: str
    recommendation_id: str | None = None
    change_id: str | None = None
    function_name: str | None = None
    record: ChangeRecord | None = None
    notes: tuple[str, ...] = ()
    # True when trying the same request again later may succeed (throttling, busy resource).
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.kind.ok


def apply_claim_key(recommendation_id: str) -> str:
    return f"apply#{recommendation_id}"


def undo_claim_key(change_id: str) -> str:
    return f"undo#{change_id}"


def _values(change: Change) -> tuple[object, object]:
    dumped = change.model_dump(mode="json")
    return dumped["before"], dumped["after"]


def region_of(function_arn: str | None) -> str | None:
    """``arn:aws:lambda:<region>:<account>:function:<name>`` -> region."""
    if function_arn and function_arn.startswith("arn:"):
        parts = function_arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


class ChangeService:
    """Apply and undo. Give it one ``context`` (all calls use its clients) or a
    ``context_for_region`` factory so each change runs against its function's region."""

    def __init__(
        self,
        store: StateStore,
        context: ApplyContext | None = None,
        *,
        context_for_region: Callable[[str], ApplyContext] | None = None,
    ) -> None:
        self.store = store
        self._fixed_context = context
        self._default_context: ApplyContext | None = None
        self._context_for_region = context_for_region
        self._contexts: dict[str, ApplyContext] = {}

    @property
    def context(self) -> ApplyContext:
        """The given context, or the default-region one used when a region is unknown."""
        if self._fixed_context is not None:
            return self._fixed_context
        if self._default_context is None:
            self._default_context = ApplyContext()
        return self._default_context

    def context_for(self, function_arn: str | None) -> ApplyContext:
        region = region_of(function_arn)
        if self._fixed_context is not None or self._context_for_region is None or region is None:
            return self.context
        if region not in self._contexts:
            self._contexts[region] = self._context_for_region(region)
        return self._contexts[region]

    # ------------------------------------------------------------------ apply

    def apply_recommendation(
        self, recommendation_id: str, actor: str, *, approvers: Sequence[str] = ()
    ) -> ChangeResult:
        """Apply a stored recommendation's change once, whoever asks and however often."""
        stored = self.store.get_recommendation(recommendation_id)
        if stored is None:
            return ChangeResult(
                kind=ResultKind.NOT_FOUND,
                recommendation_id=recommendation_id,
                message=(
                    f"Recommendation {recommendation_id} was not found or has expired "
                    "(recommendations are kept 14 days); run the analysis again."
                ),
            )
        recommendation = stored.recommendation
        change = recommendation.change
        if change is None:
            return ChangeResult(
                kind=ResultKind.NOT_APPLICABLE,
                recommendation_id=recommendation_id,
                function_name=recommendation.function,
                message=f"“{recommendation.title}” is advice without an automatic change; "
                "there is nothing to apply.",
            )
        key = apply_claim_key(recommendation_id)
        claimed = self.store.claim(key, actor)
        if not claimed.acquired and self._moved_back_since(claimed.claim, stored):
            self.store.release_claim(key)
            claimed = self.store.claim(key, actor)
        if not claimed.acquired:
            return self._not_acquired(claimed.claim, recommendation_id, change.function_name)
        change_id = claimed.claim.change_id
        result = self._run(
            change,
            key=key,
            change_id=change_id,
            actor=actor,
            action=AuditAction.APPLY,
            recommendation_id=recommendation_id,
            expected_revision_id=self._expected_revision(stored),
            approvers=tuple(approvers),
            function_arn=recommendation.function_arn,
        )
        if result.kind is ResultKind.APPLIED:
            self.store.mark_recommendation_applied(recommendation_id, change_id)
        return result

    def _moved_back_since(self, holder: Claim, stored: StoredRecommendation) -> bool:
        """Whether an applied recommendation was proposed again by a newer analysis.

        Ids are stable (function, rule, change), so when a deployment puts the old value
        back, the next analysis stores the very recommendation that was applied. Its
        function was then modified after the change was applied; a re-stored older analysis
        or one without the function says nothing of the sort and the change stays done. A
        wrong "yes" is harmless: the applier's stale check still compares the live value.
        """
        if holder.status is not ClaimStatus.APPLIED or stored.function is None:
            return False
        modified = stored.function.last_modified
        if modified is None:
            return False
        record = self.store.get_change(holder.change_id)
        return record is not None and modified > record.applied_at

    def _expected_revision(self, stored: StoredRecommendation) -> str | None:
        """The RevisionId the function may have for this recommendation to still hold.

        That is the revision it was computed from, moved on only by tunebot's own changes to
        the function since (each recorded with its revision before and after). So applying
        the memory recommendation of a card does not make the timeout one next to it stale,
        while any deployment or console edit in between does.
        """
        function = stored.function
        if function is None or not function.revision_id:
            return None
        accepted = function.revision_id
        arn = stored.recommendation.function_arn
        history = self.store.changes_for_function(stored.recommendation.function, limit=50)
        for record in reversed(history):  # oldest first
            if record.function_arn not in (None, arn):
                continue
            if record.revision_before == accepted and record.revision_after:
                accepted = record.revision_after
        return accepted

    # ------------------------------------------------------------------ undo

    def undo_change(self, change_id: str, actor: str) -> ChangeResult:
        """Apply the inverse of an applied change, once, if nothing moved since."""
        record = self.store.get_change(change_id)
        if record is None:
            return ChangeResult(
                kind=ResultKind.NOT_FOUND,
                change_id=change_id,
                message=f"There is no change {change_id}; `tunebot audit` lists the changes.",
            )
        if record.reverts is not None:
            return ChangeResult(
                kind=ResultKind.NOT_APPLICABLE,
                change_id=change_id,
                function_name=record.function_name,
                message=(
                    f"Change {change_id} is itself the undo of {record.reverts}; apply the "
                    "recommendation again instead."
                ),
            )
        if record.status is ChangeStatus.UNDONE:
            return ChangeResult(
                kind=ResultKind.ALREADY_DONE,
                change_id=record.undo_change_id,
                function_name=record.function_name,
                record=record,
                message=(
                    f"Change {change_id} was already undone by {record.undone_by} "
                    f"(change {record.undo_change_id}); nothing changed this time."
                ),
            )
        key = undo_claim_key(change_id)
        claimed = self.store.claim(key, actor)
        if not claimed.acquired:
            return self._not_acquired(claimed.claim, record.recommendation_id, record.function_name)
        undo_id = claimed.claim.change_id
        result = self._run(
            record.change.inverse(),
            key=key,
            change_id=undo_id,
            actor=actor,
            action=AuditAction.UNDO,
            recommendation_id=record.recommendation_id,
            expected_revision_id=None,
            approvers=(),
            function_arn=record.function_arn,
            reverts=change_id,
        )
        if result.kind is ResultKind.APPLIED:
            self.store.mark_change_undone(change_id, undo_id, actor)
            if record.recommendation_id:
                # The recommendation may be applied again later (its stale check still holds).
                self.store.release_claim(apply_claim_key(record.recommendation_id))
                self.store.mark_recommendation_undone(record.recommendation_id)
            return result.model_copy(
                update={
                    "kind": ResultKind.UNDONE,
                    "message": f"Undid change {change_id}: {record.change.inverse().describe()}.",
                }
            )
        return result

    # ------------------------------------------------------------------ listing

    def audit(self, function: str | None = None, limit: int = 50) -> list[AuditRecord]:
        """Audit records, newest first, of one function (name or ARN) or of all."""
        return self.store.recent_audit(limit=limit, function=function)

    def recent_changes(self, limit: int = 20) -> list[ChangeRecord]:
        return self.store.recent_changes(limit)

    # ------------------------------------------------------------------ internals

    def _not_acquired(
        self, holder: Claim, recommendation_id: str | None, function_name: str
    ) -> ChangeResult:
        if holder.status is ClaimStatus.APPLIED:
            record = self.store.get_change(holder.change_id)
            return ChangeResult(
                kind=ResultKind.ALREADY_DONE,
                recommendation_id=recommendation_id,
                change_id=holder.change_id,
                function_name=function_name,
                record=record,
                message=(
                    f"Already done by {holder.actor} as change {holder.change_id}; "
                    "nothing changed this time."
                ),
            )
        return ChangeResult(
            kind=ResultKind.IN_PROGRESS,
            recommendation_id=recommendation_id,
            change_id=holder.change_id,
            function_name=function_name,
            message=f"{holder.actor} started this a moment ago; nothing else was done.",
            retryable=True,
        )

    def _run(
        self,
        change: Change,
        *,
        key: str,
        change_id: str,
        actor: str,
        action: AuditAction,
        recommendation_id: str | None,
        expected_revision_id: str | None,
        approvers: tuple[str, ...],
        function_arn: str | None,
        reverts: str | None = None,
    ) -> ChangeResult:
        base = {
            "recommendation_id": recommendation_id,
            "change_id": change_id,
            "function_name": change.function_name,
        }
        try:
            outcome: ApplyOutcome = apply_change(
                change,
                self.context_for(function_arn),
                expected_revision_id=expected_revision_id,
                function_arn=function_arn,
            )
        except StaleChangeError as error:
            return self._ended(
                key, change, actor, action, base, AuditResult.STALE, str(error), approvers
            )
        except ChangeError as error:
            logger.warning("change %s failed: %s", change_id, error, exc_info=error)
            result = self._ended(
                key, change, actor, action, base, AuditResult.FAILED, str(error), approvers
            )
            return result.model_copy(update={"retryable": error.retryable})
        except Exception as error:
            # A bug, not an AWS answer: still release the claim and leave an audit trail.
            self._ended(
                key, change, actor, action, base, AuditResult.FAILED, repr(error), approvers
            )
            raise
        applied = outcome.change
        try:
            self.store.finish_claim(key, change_id, ClaimStatus.APPLIED, applied.describe())
        except StoreError:
            # Our lease ran out while AWS was slow and another attempt took the claim over.
            # The change did happen, so it is still recorded and audited below.
            logger.warning("claim %s was taken over while change %s was applied", key, change_id)
        record = ChangeRecord(
            change_id=change_id,
            recommendation_id=recommendation_id,
            function_name=applied.function_name,
            function_arn=function_arn,
            change=applied,
            description=applied.describe(),
            actor=actor,
            approvers=approvers,
            applied_at=self.store.now(),
            request_ids=outcome.request_ids,
            notes=outcome.notes,
            reverts=reverts,
            revision_before=outcome.revision_before,
            revision_after=outcome.revision_id,
        )
        self.store.put_change(record)
        self._audit(
            applied,
            actor,
            action,
            base,
            AuditResult.APPLIED,
            "; ".join(outcome.notes),
            approvers,
            request_ids=outcome.request_ids,
        )
        logger.info("change %s applied by %s: %s", change_id, actor, applied.describe())
        return ChangeResult(
            kind=ResultKind.APPLIED,
            message=f"Applied change {change_id}: {applied.describe()}.",
            record=record,
            notes=outcome.notes,
            **base,
        )

    def _ended(
        self,
        key: str,
        change: Change,
        actor: str,
        action: AuditAction,
        base: dict[str, str | None],
        result: AuditResult,
        message: str,
        approvers: tuple[str, ...],
    ) -> ChangeResult:
        """Record an attempt that changed nothing (stale) or failed, and free the claim."""
        change_id = base["change_id"] or ""
        status = ClaimStatus.STALE if result is AuditResult.STALE else ClaimStatus.FAILED
        self.store.finish_claim(key, change_id, status, message)
        self._audit(change, actor, action, base, result, message, approvers)
        kind = ResultKind.STALE if result is AuditResult.STALE else ResultKind.FAILED
        return ChangeResult(kind=kind, message=message, **base)

    def _audit(
        self,
        change: Change,
        actor: str,
        action: AuditAction,
        base: dict[str, str | None],
        result: AuditResult,
        message: str,
        approvers: tuple[str, ...],
        *,
        request_ids: tuple[str, ...] = (),
    ) -> None:
        """Append the audit record of one attempt, whatever its result."""
        before, after = _values(change)
        self.store.append_audit(
            self.store.new_audit_record(
                actor=actor,
                action=action,
                description=change.describe(),
                before=before,
                after=after,
                result=result,
                message=message,
                request_ids=request_ids,
                approvers=approvers,
                **base,
            )
        )

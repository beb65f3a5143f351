"""Apply and undo stored recommendations: at most once, stale-checked, always audited.

This is the one path from "someone approved recommendation X" to a changed function; the
Slack bot and the CLI both call it. Authorisation is the caller's job (Slack policy lives in
``bot/``); the service only records who acted (``actor``, e.g. ``"slack:U123"``,
``"cli:alice"``).

Every request ends in a :class:`ChangeResult` with one sentence for the person who asked. It
never leaves a change half-applied: an applier that fails before its update call changed
nothing, and one that fails after it is recorded as failed with the reason, so the next
attempt's stale check sees the real state.

AWS is reached only through the ports of :mod:`service.ports` (a :class:`ChangeApplier`, a
:class:`ChangeObserver`, a :class:`ChangeStore`); ``aws.change_adapters`` implements them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

from recommendations.changes import Change
from recommendations.snapshot import Frozen
from service.errors import ChangeFailed, ClaimLost, PortError, StaleChange, StoreFailed
from service.lifecycle import ChangeState, latest_changes, state_of
from service.ports import ChangeApplier, ChangeObserver, ChangeStore
from service.records import (
    ApplyOutcome,
    AuditAction,
    AuditRecord,
    AuditResult,
    ChangeRecord,
    ChangeStatus,
    Claim,
    ClaimResult,
    ClaimStatus,
    StoredRecommendation,
    Verdict,
)

logger = logging.getLogger(__name__)

# Pauses between tries of one state-table write (the client's own retries come first).
WRITE_RETRY_DELAYS_S = (0.2, 1.0)


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


class ChangeService:
    """Apply and undo through the ports: ``applier`` changes functions, ``observer`` reads
    whether an earlier attempt took effect, ``store`` keeps claims, records and the audit."""

    def __init__(
        self,
        store: ChangeStore,
        applier: ChangeApplier,
        observer: ChangeObserver,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self._applier = applier
        self._observer = observer
        self._sleep = sleep

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
        earlier = self._resolve_previous(claimed, key)
        if earlier is not None:
            return earlier
        return self._run(
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

    def already_applied(self, recommendation_id: str) -> ChangeResult | None:
        """The ``already_done`` answer while the recommendation's change is in effect (so a
        caller need not collect approvals for it); None when it may be applied."""
        stored = self.store.get_recommendation(recommendation_id)
        holder = self.store.get_claim(apply_claim_key(recommendation_id))
        if stored is None or holder is None or holder.status is not ClaimStatus.APPLIED:
            return None
        if self._moved_back_since(holder, stored):
            return None
        return self._not_acquired(holder, recommendation_id, stored.recommendation.function)

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
        return (
            record is not None
            and record.status is not ChangeStatus.INTENDED
            and modified > record.applied_at
        )

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
        if record.status is ChangeStatus.INTENDED:
            # Its outcome was never recorded: find out what happened before undoing anything.
            resolved = self._resolve_intent(record)
            if resolved is None or resolved.status is ChangeStatus.INTENDED:
                return ChangeResult(
                    kind=ResultKind.IN_PROGRESS,
                    change_id=change_id,
                    function_name=record.function_name,
                    message=f"Change {change_id} is still being applied; try Undo in a minute.",
                    retryable=True,
                )
            record = resolved
        if record.status is ChangeStatus.FAILED:
            return ChangeResult(
                kind=ResultKind.NOT_APPLICABLE,
                change_id=change_id,
                function_name=record.function_name,
                record=record,
                message=f"Change {change_id} did not take effect; there is nothing to undo.",
            )
        if record.status is ChangeStatus.UNDONE:
            return self._already_undone(record)
        key = undo_claim_key(change_id)
        claimed = self.store.claim(key, actor)
        if not claimed.acquired:
            return self._not_acquired(claimed.claim, record.recommendation_id, record.function_name)
        earlier = self._resolve_previous(claimed, key)
        if earlier is not None:
            return earlier
        undo_id = claimed.claim.change_id
        return self._run(
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

    def _already_undone(self, record: ChangeRecord) -> ChangeResult:
        return ChangeResult(
            kind=ResultKind.ALREADY_DONE,
            change_id=record.undo_change_id,
            function_name=record.function_name,
            record=record,
            message=(
                f"Change {record.change_id} was already undone by {record.undone_by} "
                f"(change {record.undo_change_id}); nothing changed this time."
            ),
        )

    # ------------------------------------------------------------------ listing

    def audit(self, function: str | None = None, limit: int = 50) -> list[AuditRecord]:
        """Audit records, newest first, of one function (name or ARN) or of all."""
        return self.store.recent_audit(limit=limit, function=function)

    def recent_changes(self, limit: int = 20) -> list[ChangeRecord]:
        return self.store.recent_changes(limit)

    def change_states(
        self, function: str, limit: int = 20
    ) -> list[tuple[ChangeRecord, ChangeState]]:
        """The latest change per recommendation of ``function`` (name or ARN), newest first,
        each with its state; a change in force is read back from the function, so one set
        back or changed outside tunebot says so instead of offering an Undo that is stale."""
        latest = latest_changes(self.store.changes_for_function(function, limit))
        states = []
        for record in sorted(latest.values(), key=lambda item: item.applied_at, reverse=True):
            observed = None
            if record.in_force:
                try:
                    observed = self._observer.observe(record.change, record.function_arn).verdict
                except PortError as error:
                    # Unread, the record is the best account: shown as applied, Undo checks.
                    logger.info("could not read change %s back: %s", record.change_id, error)
            states.append((record, state_of(record, observed)))
        return states

    # ------------------------------------------------------------------ internals

    def _not_acquired(
        self, holder: Claim, recommendation_id: str | None, function_name: str
    ) -> ChangeResult:
        if holder.status is ClaimStatus.APPLIED:
            record = self.store.get_change(holder.change_id)
            if record is not None and record.status is ChangeStatus.INTENDED:
                # The holder saw AWS accept the change but could not finish recording it.
                record = self._resolve_intent(record) or record
            if (
                record is not None
                and record.reverts is None
                and record.status is (ChangeStatus.UNDONE)
            ):
                return self._already_undone(record)
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

    def _intent(
        self,
        change: Change,
        *,
        change_id: str,
        actor: str,
        recommendation_id: str | None,
        approvers: tuple[str, ...],
        function_arn: str | None,
        reverts: str | None,
    ) -> ChangeRecord:
        return ChangeRecord(
            change_id=change_id,
            recommendation_id=recommendation_id,
            function_name=change.function_name,
            function_arn=function_arn,
            change=change,
            description=change.describe(),
            actor=actor,
            approvers=approvers,
            applied_at=self.store.now(),
            status=ChangeStatus.INTENDED,
            reverts=reverts,
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
        """Write the intent, ask AWS, then record the outcome (see ``docs/state.md``)."""
        intent = self._intent(
            change,
            change_id=change_id,
            actor=actor,
            recommendation_id=recommendation_id,
            approvers=approvers,
            function_arn=function_arn,
            reverts=reverts,
        )
        try:
            self._retrying(lambda: self.store.put_change(intent, exist_ok=True))
        except StoreFailed as error:
            # Nothing was asked of AWS: free the claim (if the table lets us) and say so.
            reason = str(error)
            self._try(lambda: self.store.finish_claim(key, change_id, ClaimStatus.FAILED, reason))
            return ChangeResult(
                kind=ResultKind.FAILED,
                recommendation_id=recommendation_id,
                change_id=change_id,
                function_name=change.function_name,
                message=f"Nothing was changed: tunebot could not record the change first ({error})",
                retryable=True,
            )
        try:
            outcome = self._applier.apply(
                change, function_arn=function_arn, expected_revision_id=expected_revision_id
            )
        except StaleChange as error:
            return self._ended(intent, key, change_id, AuditResult.STALE, str(error), action)
        except ChangeFailed as error:
            logger.warning("change %s failed: %s", change_id, error, exc_info=error)
            # The failure may have come after the update call (a lost answer, a failed wait or
            # read-back): what the function reads now decides how the attempt is recorded.
            try:
                seen = self._observer.observe(change, function_arn)
            except ChangeFailed as unread:
                return self._unsettled(intent, key, change_id, error, unread)
            if seen.verdict is not Verdict.TOOK_EFFECT:
                result = self._ended(intent, key, change_id, AuditResult.FAILED, str(error), action)
                return result.model_copy(update={"retryable": error.retryable})
            outcome = ApplyOutcome(
                change=change,
                notes=(f"AWS answered: {error} The function reads the new value.",),
            )
        except Exception as error:
            # A bug, not an AWS answer: still release the claim and leave an audit trail.
            self._ended(intent, key, change_id, AuditResult.FAILED, repr(error), action)
            raise
        applied = outcome.change
        record = intent.model_copy(
            update={
                "change": applied,
                "description": applied.describe(),
                "status": ChangeStatus.APPLIED,
                "request_ids": outcome.request_ids,
                "notes": outcome.notes,
                "revision_before": outcome.revision_before,
                "revision_after": outcome.revision_id,
            }
        )
        logger.info("change %s applied by %s: %s", change_id, actor, applied.describe())
        unrecorded = self._record_applied(record, key=key, claim_id=change_id)
        message = f"Applied change {change_id}: {applied.describe()}."
        kind = ResultKind.APPLIED
        if reverts is not None:
            message = f"Undid change {reverts}: {applied.describe()}."
            kind = ResultKind.UNDONE
        if unrecorded:
            message += (
                f" AWS made the change, but tunebot could not finish recording it ({unrecorded});"
                " it is recorded the next time anyone clicks Apply or Undo on it, and nothing "
                "is changed twice."
            )
        return ChangeResult(
            kind=kind,
            message=message,
            record=record,
            notes=outcome.notes,
            recommendation_id=recommendation_id,
            change_id=change_id,
            function_name=change.function_name,
        )

    def _record_applied(self, record: ChangeRecord, *, key: str, claim_id: str | None) -> str:
        """Record a change AWS made: audit, change record, claim, follow-ups. Each write is
        retried; a failure is returned (as one sentence) and the next attempt repairs it.

        The audit goes first and the change record leaves ``intended`` only after it, so an
        ``intended`` record is the one marker of unfinished recording. The claim is finished
        even when the records could not be, so the next click finds the change done (and
        repairs the records) instead of waiting out the lease.
        """
        problems: list[str] = []
        audited = self._try(lambda: self._audit_outcome(record, AuditResult.APPLIED), problems)
        if audited:
            self._try(lambda: self.store.complete_change(record), problems)
        if claim_id is not None:
            self._try(
                lambda: self.store.finish_claim(
                    key,
                    claim_id,
                    ClaimStatus.APPLIED,
                    record.description,
                    record_as=record.change_id,
                ),
                problems,
            )
        if record.reverts is not None:
            self._try(
                lambda: self.store.mark_change_undone(
                    record.reverts or "", record.change_id, record.actor
                ),
                problems,
            )
            if record.recommendation_id:
                rec_id = record.recommendation_id
                # The recommendation may be applied again later (its stale check still holds).
                self._try(lambda: self.store.release_claim(apply_claim_key(rec_id)), problems)
                self._try(lambda: self.store.mark_recommendation_undone(rec_id), problems)
        elif record.recommendation_id:
            rec_id = record.recommendation_id
            self._try(
                lambda: self.store.mark_recommendation_applied(rec_id, record.change_id), problems
            )
        return problems[0] if problems else ""

    def _ended(
        self,
        intent: ChangeRecord,
        key: str,
        change_id: str,
        result: AuditResult,
        message: str,
        action: AuditAction,
    ) -> ChangeResult:
        """Record an attempt that changed nothing (stale) or failed, and free the claim."""
        status = ClaimStatus.STALE if result is AuditResult.STALE else ClaimStatus.FAILED
        self._record_failed(intent, result, message)
        self._try(lambda: self.store.finish_claim(key, change_id, status, message))
        kind = ResultKind.STALE if result is AuditResult.STALE else ResultKind.FAILED
        return ChangeResult(
            kind=kind,
            message=message,
            recommendation_id=intent.recommendation_id,
            change_id=change_id,
            function_name=intent.function_name,
        )

    def _unsettled(
        self,
        intent: ChangeRecord,
        key: str,
        change_id: str,
        error: ChangeFailed,
        unread: ChangeFailed,
    ) -> ChangeResult:
        """The attempt failed and the function cannot be read to tell whether it changed: the
        intent stays, the claim is freed, and the next attempt settles it first."""
        self._try(lambda: self.store.finish_claim(key, change_id, ClaimStatus.FAILED, str(error)))
        return ChangeResult(
            kind=ResultKind.FAILED,
            recommendation_id=intent.recommendation_id,
            change_id=change_id,
            function_name=intent.function_name,
            message=(
                f"{error} tunebot could not check whether the change took effect ({unread}); "
                "the next Apply or Undo checks it first and changes nothing twice."
            ),
            retryable=True,
        )

    def _record_failed(self, intent: ChangeRecord, result: AuditResult, message: str) -> None:
        failed = intent.model_copy(update={"status": ChangeStatus.FAILED, "notes": (message,)})
        if self._try(lambda: self._audit_outcome(intent, result, message)):
            self._try(lambda: self.store.complete_change(failed))

    # ------------------------------------------------------------------ repair

    def _resolve_previous(self, claimed: ClaimResult, key: str) -> ChangeResult | None:
        """Before acting under a claim taken over from an earlier attempt, settle that
        attempt's intent. Returns the answer when the earlier attempt turns out to have made
        the change (so nothing is done twice); None to go ahead."""
        previous = claimed.previous
        if previous is None or previous.status not in (
            ClaimStatus.IN_PROGRESS,
            ClaimStatus.FAILED,
        ):
            return None
        record = self.store.get_change(previous.change_id)
        if record is None or record.status is not ChangeStatus.INTENDED:
            return None
        try:
            resolved = self._resolve_intent(record, claim_id=claimed.claim.change_id, key=key)
        except ChangeFailed as error:
            reason = str(error)
            self._try(
                lambda: self.store.finish_claim(
                    key, claimed.claim.change_id, ClaimStatus.FAILED, reason
                )
            )
            return ChangeResult(
                kind=ResultKind.FAILED,
                change_id=record.change_id,
                function_name=record.function_name,
                message=(
                    f"Nothing was changed: tunebot could not check whether the earlier attempt "
                    f"(change {record.change_id}) took effect: {error}"
                ),
                retryable=True,
            )
        if resolved is None or resolved.status is not ChangeStatus.APPLIED:
            return None
        return ChangeResult(
            kind=ResultKind.ALREADY_DONE,
            recommendation_id=record.recommendation_id,
            change_id=record.change_id,
            function_name=record.function_name,
            record=resolved,
            message=(
                f"Already done by {record.actor} as change {record.change_id} (its record "
                "was completed just now); nothing changed this time."
            ),
        )

    def _resolve_intent(
        self, record: ChangeRecord, *, claim_id: str | None = None, key: str | None = None
    ) -> ChangeRecord | None:
        """Find out how an ``intended`` change ended and record it.

        When its claim says applied, AWS accepted it; when the claim is still held within its
        lease, it is in flight (None: leave it alone); otherwise the function is read and
        compared with the change's before and after. ``claim_id``/``key``: the claim the
        caller holds now, which then stands for this change if it took effect.
        """
        own_key = (
            undo_claim_key(record.reverts)
            if record.reverts is not None
            else apply_claim_key(record.recommendation_id or "")
        )
        claim = self.store.get_claim(own_key)
        held = claim is not None and claim.change_id == record.change_id
        if held and claim is not None and claim.status is ClaimStatus.APPLIED:
            took_effect = True
        elif (
            held
            and claim is not None
            and claim.status is ClaimStatus.IN_PROGRESS
            and claim.lease_until > self.store.now()
            and claim_id is None
        ):
            return None
        else:
            seen = self._observer.observe(record.change, record.function_arn)
            took_effect = seen.verdict is Verdict.TOOK_EFFECT
            if not took_effect:
                reading = (
                    "did not take effect"
                    if seen.verdict is Verdict.NO_EFFECT
                    else f"is not in effect (the function reads {seen.value})"
                )
                message = f"Change {record.change_id} {reading}; nothing was changed by it."
                self._record_failed(record, AuditResult.FAILED, message)
                return self.store.get_change(record.change_id)
        late = "; ".join(
            (*record.notes, "recorded late: AWS had made the change but the record was unfinished")
        )
        applied = record.model_copy(update={"status": ChangeStatus.APPLIED, "notes": (late,)})
        if claim_id is not None and key is not None:
            problem = self._record_applied(applied, key=key, claim_id=claim_id)
        else:
            problem = self._record_applied(
                applied, key=own_key, claim_id=record.change_id if held else None
            )
        if problem:
            logger.warning("change %s is still not fully recorded: %s", record.change_id, problem)
        return self.store.get_change(record.change_id)

    # ------------------------------------------------------------------ writes

    def _retrying(self, write: Callable[[], object]) -> None:
        """One state-table write, tried again on failure (the client already retried
        throttling; this covers a failing request and a short outage)."""
        for attempt, delay in enumerate((*WRITE_RETRY_DELAYS_S, None)):
            try:
                write()
                return
            except ClaimLost:
                raise
            except StoreFailed as error:
                if delay is None:
                    raise
                logger.warning("state write failed (try %d): %s", attempt + 1, error)
                self._sleep(delay)

    def _try(self, write: Callable[[], object], problems: list[str] | None = None) -> bool:
        """``_retrying``, with a failure logged (and collected) instead of raised."""
        try:
            self._retrying(write)
        except ClaimLost:
            # Our lease ran out while AWS was slow and another attempt took the claim over;
            # the records below still say what happened.
            logger.warning("a claim was taken over while its change was recorded")
            return True
        except StoreFailed as error:
            logger.error("state write failed for good: %s", error)
            if problems is not None:
                problems.append(str(error).rstrip("."))
            return False
        return True

    def _audit_outcome(self, record: ChangeRecord, result: AuditResult, message: str = "") -> None:
        """The audit record of one attempt. Its id and time come from the change, so a
        repeated write (a retry, a repair) finds it already there instead of adding another."""
        before, after = _values(record.change)
        self.store.append_audit(
            AuditRecord(
                audit_id="aud-" + record.change_id.removeprefix("chg-"),
                at=record.applied_at,
                actor=record.actor,
                action=AuditAction.UNDO if record.reverts is not None else AuditAction.APPLY,
                function_name=record.function_name,
                recommendation_id=record.recommendation_id,
                change_id=record.change_id,
                description=record.change.describe(),
                before=before,
                after=after,
                result=result,
                message=message or "; ".join(record.notes),
                request_ids=record.request_ids,
                approvers=record.approvers,
            ),
            exist_ok=True,
        )

"""The apply flow of the safety model, independent of Slack's transport.

Order of checks for an Apply click: the recommendation is known → the mode allows changes →
the function's tags are read *now* → the function carries the managed tag → the policy allows
this user → the approval is recorded (per distinct user, for this application only) → enough
distinct approvers → the AWS side applies at most once, after a stale check. Every refusal is
one sentence for the person who clicked.

The tags stored with the recommendation are what the function had when ``/tune`` ran; the
decision uses the ones read at the click, so untagging ``tunebot:managed`` or tagging a function
as production after the card was posted takes effect on the next click.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import StrEnum

from bot.settings import ApplyMode, BotSettings
from recommendations.snapshot import Frozen
from service.api import (
    ChangeOutcome,
    ChangeRecord,
    OutcomeKind,
    StoredRecommendation,
    TunebotServices,
)
from service.errors import ServiceError

GroupLookup = Callable[[str], Collection[str]]


class FlowKind(StrEnum):
    REFUSED = "refused"
    PENDING = "pending"
    APPLIED = "applied"
    UNDONE = "undone"
    ALREADY_DONE = "already_done"
    STALE = "stale"
    FAILED = "failed"
    UNKNOWN = "unknown"


class FlowResult(Frozen):
    kind: FlowKind
    message: str
    stored: StoredRecommendation | None = None
    approvers: tuple[str, ...] = ()
    required: int = 1
    record: ChangeRecord | None = None


_OUTCOME_KINDS = {
    OutcomeKind.STALE: FlowKind.STALE,
    OutcomeKind.ALREADY_DONE: FlowKind.ALREADY_DONE,
    OutcomeKind.NOT_FOUND: FlowKind.UNKNOWN,
    OutcomeKind.FAILED: FlowKind.FAILED,
}


class ApplyFlow:
    def __init__(
        self, settings: BotSettings, services: TunebotServices, groups_of: GroupLookup
    ) -> None:
        self.settings = settings
        self.services = services
        self.groups_of = groups_of

    def _refusal(self, stored: StoredRecommendation, user_id: str) -> str | None:
        """Why the user may not act; ``stored`` carries the tags read just now."""
        if not self.settings.is_managed(stored.function_tags):
            return (
                f"tunebot may not change {stored.recommendation.function}: it lacks the tag "
                f"{self.settings.managed_tag}."
            )
        policy = self.settings.policy
        groups = self.groups_of(user_id) if policy.group_ids() else ()
        return policy.refusal(user_id, groups, stored.function_tags)

    def _static_refusal(self, stored: StoredRecommendation) -> str | None:
        """Refusals that need no AWS call."""
        if stored.recommendation.change is None:
            return "This recommendation is advice only: there is no change to apply."
        if self.settings.configuration_error:
            problem = self.settings.configuration_error
            return f"Changes are disabled until the configuration is fixed: {problem}"
        if self.settings.apply_mode is ApplyMode.RECOMMEND_ONLY:
            return "tunebot runs in recommend-only mode: changes are not applied from Slack."
        return None

    def authorise(self, recommendation_id: str, user_id: str) -> FlowResult:
        """Whether the user may act on (apply, undo, benchmark) this recommendation, decided
        from the function's tags as read now; the result's ``stored`` carries those tags."""
        stored = self.services.get_recommendation(recommendation_id)
        if stored is None:
            return FlowResult(
                kind=FlowKind.UNKNOWN,
                message="tunebot no longer knows this recommendation: run /tune again.",
            )
        refusal = self._static_refusal(stored)
        if refusal:
            return FlowResult(kind=FlowKind.REFUSED, message=refusal, stored=stored)
        function = stored.recommendation.function
        try:
            live = self.services.function_tags(stored.recommendation.function_arn)
        except ServiceError as error:
            return FlowResult(
                kind=FlowKind.REFUSED,
                message=(
                    f"tunebot could not read the tags of {function} to check who may change "
                    f"it, so nothing was changed: {error}"
                ),
                stored=stored,
            )
        stored = stored.model_copy(update={"function_tags": live})
        refusal = self._refusal(stored, user_id)
        if refusal:
            return FlowResult(kind=FlowKind.REFUSED, message=refusal, stored=stored)
        return FlowResult(kind=FlowKind.PENDING, message="", stored=stored)

    def approve(self, recommendation_id: str, user_id: str) -> FlowResult:
        checked = self.authorise(recommendation_id, user_id)
        if checked.kind is not FlowKind.PENDING or checked.stored is None:
            return checked
        stored = checked.stored
        required = self.settings.required_approvals(stored.function_tags)
        done = self.services.already_applied(recommendation_id)
        if done is not None:
            # Approvals belong to one application: one given now would approve nothing.
            approvers = done.record.approvers if done.record is not None else ()
            return self._from_outcome(done, stored, approvers, required, FlowKind.APPLIED)
        approvers = self.services.add_approval(recommendation_id, user_id)
        if len(approvers) < required:
            missing = required - len(approvers)
            return FlowResult(
                kind=FlowKind.PENDING,
                message=(
                    f"Your approval is recorded; {missing} more distinct approver"
                    f"{'' if missing == 1 else 's'} needed before it is applied."
                ),
                stored=stored,
                approvers=approvers,
                required=required,
            )
        outcome = self.services.apply(recommendation_id, user_id=user_id, approvers=approvers)
        return self._from_outcome(outcome, stored, approvers, required, FlowKind.APPLIED)

    def undo(self, change_id: str, user_id: str) -> FlowResult:
        record = self.services.get_change(change_id)
        if record is None:
            return FlowResult(
                kind=FlowKind.UNKNOWN, message="tunebot has no record of this change."
            )
        checked = self.authorise(record.recommendation_id, user_id)
        if checked.kind is FlowKind.UNKNOWN:
            # The recommendation (with the tags the policy needs) expired; the change did not.
            return checked.model_copy(
                update={
                    "record": record,
                    "message": (
                        "tunebot no longer keeps the recommendation behind this change, so it "
                        "cannot check who may undo it from Slack; run "
                        f"`tunebot undo {record.change_id}` instead."
                    ),
                }
            )
        if checked.kind is not FlowKind.PENDING or checked.stored is None:
            return checked.model_copy(update={"record": record})
        outcome = self.services.undo(change_id, user_id=user_id)
        return self._from_outcome(outcome, checked.stored, record.approvers, 1, FlowKind.UNDONE)

    @staticmethod
    def _from_outcome(
        outcome: ChangeOutcome,
        stored: StoredRecommendation,
        approvers: tuple[str, ...],
        required: int,
        done: FlowKind,
    ) -> FlowResult:
        kind = done if outcome.kind is OutcomeKind.DONE else _OUTCOME_KINDS[outcome.kind]
        return FlowResult(
            kind=kind,
            message=outcome.message,
            stored=stored,
            approvers=approvers,
            required=required,
            record=outcome.record,
        )

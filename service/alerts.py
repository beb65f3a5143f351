"""What an alert card says about each function it names: the use case behind the alarm and
cost-anomaly handlers.

A function is analysed as ``/tune`` would, its recommendations stored so the card's buttons
work, dismissed ones left out, and what people already did from an earlier card (applied
changes, approvals under way) carried over, since a card is rebuilt on every state change.
The card itself is the bot's (``bot.alerts``); this returns the facts it is built from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from recommendations.alerts import AlertDiagnosis
from recommendations.recommendation import Recommendation
from service.api import (
    ChangeRecord,
    ChangeState,
    FunctionAnalysis,
    StoredRecommendation,
    TunebotServices,
)
from service.errors import FunctionNotFoundError, ServiceError

CHANNEL_TAG = "tunebot:channel"
# How far back a rebuilt alert card looks for changes applied from it.
APPLIED_LOOKBACK = timedelta(days=7)
APPLIED_LOOKBACK_LIMIT = 50

Diagnose = Callable[[FunctionAnalysis], AlertDiagnosis | None]


def route(
    function_tags: Sequence[Mapping[str, str]],
    alarm_tags: Mapping[str, str],
    default: str | None,
) -> str | None:
    """The function's ``tunebot:channel`` tag, else the alarm's, else the default channel."""
    for tags in function_tags:
        if tags.get(CHANNEL_TAG):
            return tags[CHANNEL_TAG]
    return alarm_tags.get(CHANNEL_TAG) or default


@dataclass(frozen=True)
class FunctionFinding:
    """One function's part of an alert; ``problem`` says why there is nothing more."""

    function: str
    region: str | None
    problem: str | None = None
    # The fixes for the alert, best first; then what is not a fix (see ``fixes_for``).
    recommendations: tuple[Recommendation, ...] = ()
    other_savings: tuple[Recommendation, ...] = ()
    diagnosis: AlertDiagnosis | None = None
    tags: dict[str, str] = field(default_factory=dict)
    cloudformation_stack: str | None = None
    changes: tuple[str, ...] = ()
    cost_line: str | None = None
    limit: int = 3
    # This week's changes from cards, with what they applied and where each stands now.
    applied: tuple[tuple[StoredRecommendation, ChangeRecord, ChangeState], ...] = ()
    # Recommendations waiting for more approvers: id -> who approved so far.
    pending: dict[str, tuple[str, ...]] = field(default_factory=dict)


class AlertAnalysis:
    """Analyses the functions an alert names, in the account and region tunebot reads."""

    def __init__(
        self,
        services: TunebotServices,
        *,
        region: str,
        account_id: Callable[[], str | None],
        now: Callable[[], datetime],
    ) -> None:
        self.services = services
        self.region = region
        self.account_id = account_id
        self.now = now

    def function(
        self,
        name: str,
        region: str | None,
        *,
        diagnose: Diagnose = lambda _: None,
        changes: Sequence[str] = (),
        cost_line: str | None = None,
        limit: int = 3,
        account_id: str | None = None,
    ) -> FunctionFinding:
        """One function's finding; a missing or unreadable function gives a short problem.

        A function in another account or region than the one tunebot reads is not analysed:
        a function of the same name here would be the wrong one. A transient failure (a
        ``ServiceError`` that is ``retryable``) is raised, so the platform retries the event.
        """
        own_account = self.account_id()
        if account_id and own_account and account_id != own_account:
            return FunctionFinding(
                name,
                region,
                problem=(
                    f"The function is in account {account_id}; tunebot reads account {own_account}."
                ),
            )
        if region and region != self.region:
            return FunctionFinding(
                name,
                region,
                problem=(
                    f"tunebot runs in {self.region} and cannot analyse functions in {region}; "
                    "deploy it there too."
                ),
            )
        try:
            analysis = self.services.analyze_function(name)
        except FunctionNotFoundError:
            where = f" in {region}" if region else ""
            return FunctionFinding(name, region, problem=f"The function no longer exists{where}.")
        except ServiceError as error:
            if error.retryable:
                raise
            return FunctionFinding(name, region, problem=f"The function could not be read: {error}")
        now = self.now()
        self.services.save_recommendations(analysis, requested_by=None)
        ranked = list(analysis.report.recommendations)
        dismissed = self.services.active_dismissals(ranked, now)
        kept = tuple(rec for rec in ranked if rec.id not in dismissed)
        diagnosis = diagnose(analysis)
        # An alarm's card leads with fixes for its diagnosed cause; a change that could worsen
        # the alarm's metric is never one of them. A cost anomaly's card has no such cause.
        fixes, other_savings = diagnosis.fixes(kept) if diagnosis is not None else (kept, ())
        snapshot = analysis.snapshot
        applied, pending = self.done_from_cards(snapshot.name, now)
        return FunctionFinding(
            function=snapshot.name,
            region=snapshot.region,
            recommendations=fixes,
            other_savings=other_savings,
            diagnosis=diagnosis,
            tags=dict(snapshot.tags),
            cloudformation_stack=snapshot.cloudformation_stack,
            changes=tuple(changes),
            cost_line=cost_line,
            limit=limit,
            applied=applied,
            pending=pending,
        )

    def done_from_cards(
        self, function: str, now: datetime
    ) -> tuple[
        tuple[tuple[StoredRecommendation, ChangeRecord, ChangeState], ...],
        dict[str, tuple[str, ...]],
    ]:
        """This week's changes made from cards for ``function``, each with its state (in force,
        undone, set back or changed outside tunebot), and the recommendations waiting for
        approvers, so a rebuilt card shows what people did and keeps the approval counts."""
        applied = []
        for record, state in self.services.change_states(function):
            if not record.recommendation_id or now - record.applied_at > APPLIED_LOOKBACK:
                continue
            stored = self.services.get_recommendation(record.recommendation_id)
            if stored is not None:
                applied.append((stored, record, state))
        pending = {
            item.stored.recommendation.id: tuple(item.approvers)
            for item in self.services.pending_approvals(APPLIED_LOOKBACK_LIMIT)
            if item.stored.recommendation.function == function
        }
        return tuple(applied), pending

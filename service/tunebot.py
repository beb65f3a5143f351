"""The service API the Slack bot calls (:class:`service.api.TunebotServices`), composed from
the use cases; ``handlers.compose`` builds it with the real adapters.

People are Slack users here: the change history records them as ``slack:<user id>`` actors,
and the sentences the change use case writes name them so; this turns those into mentions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from recommendations.engine import FleetReport
from recommendations.pricing import monthly_cost
from recommendations.recommendation import Recommendation
from service import api
from service.analysis import AnalysisService, utc_now
from service.api import (
    BenchmarkOutcome,
    ChangeOutcome,
    FunctionAnalysis,
    OutcomeKind,
    PendingApproval,
)
from service.benchmarks import BenchmarkService
from service.changes import ChangeResult, ChangeService, ResultKind
from service.errors import PortError
from service.ports import RecommendationStore
from service.records import ACTOR_PREFIX, StoredRecommendation

logger = logging.getLogger(__name__)

# Lambda keeps retrying an asynchronous event for up to 6 hours.
DELIVERY_MEMORY = timedelta(hours=6)
# Applied changes this recent keep their recommendation out of the Home tab's top savings.
APPLIED_LOOKUP = 200
_SLACK_ACTOR = re.compile(r"slack:([UW][A-Z0-9]{2,})")


# How each ending of the change use case reads to the person who clicked.
_OUTCOMES = {
    ResultKind.APPLIED: OutcomeKind.DONE,
    ResultKind.UNDONE: OutcomeKind.DONE,
    ResultKind.ALREADY_DONE: OutcomeKind.ALREADY_DONE,
    ResultKind.IN_PROGRESS: OutcomeKind.ALREADY_DONE,
    ResultKind.STALE: OutcomeKind.STALE,
    ResultKind.FAILED: OutcomeKind.FAILED,
    ResultKind.NOT_FOUND: OutcomeKind.NOT_FOUND,
    ResultKind.NOT_APPLICABLE: OutcomeKind.FAILED,
}


def mentions(message: str) -> str:
    """Actors in the change use case's sentences become Slack mentions."""
    return _SLACK_ACTOR.sub(r"<@\1>", message)


def stored_view(stored: StoredRecommendation) -> api.StoredRecommendation:
    function = stored.function
    cost = monthly_cost(function, at=stored.stored_at) if function is not None else None
    return api.StoredRecommendation(
        recommendation=stored.recommendation,
        function_tags=dict(function.tags) if function is not None else {},
        cloudformation_stack=function.cloudformation_stack if function is not None else None,
        requested_by=stored.requested_by,
        created_at=stored.stored_at,
        function_monthly_cost_usd=cost.total_usd if cost is not None else None,
    )


class Tunebot:
    """``TunebotServices``: what the Slack bot may ask, each answered by one use case."""

    def __init__(
        self,
        analysis: AnalysisService,
        store: RecommendationStore,
        changes: ChangeService,
        benchmarks: BenchmarkService,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.analysis = analysis
        self.store = store
        self.changes = changes
        self.benchmarks = benchmarks
        self.clock = clock

    # ---- reading and analysing ---------------------------------------------------------

    def analyze_function(self, name: str) -> FunctionAnalysis:
        return self.analysis.analyze_function(name)

    def scan_fleet(self) -> FleetReport:
        return self.analysis.scan_fleet()

    def save_recommendations(self, analysis: FunctionAnalysis, *, requested_by: str | None) -> None:
        self.analysis.save_recommendations(analysis, requested_by=requested_by)

    def get_recommendation(self, recommendation_id: str) -> api.StoredRecommendation | None:
        stored = self.store.get_recommendation(recommendation_id)
        return stored_view(stored) if stored is not None else None

    def recommendations_for(self, function_arn: str) -> list[api.StoredRecommendation]:
        return [stored_view(item) for item in self.analysis.latest_recommendations(function_arn)]

    def function_tags(self, function_arn: str) -> dict[str, str]:
        return self.analysis.function_tags(function_arn)

    def top_savings(self, limit: int) -> list[Recommendation]:
        applied = {
            record.recommendation_id
            for record in self.recent_changes(APPLIED_LOOKUP)
            if record.in_force and record.recommendation_id
        }
        return self.analysis.top_savings(limit, applied=applied)

    # ---- approvals, dismissals, deliveries ---------------------------------------------

    def add_approval(self, recommendation_id: str, user_id: str) -> tuple[str, ...]:
        _, approvers = self.store.add_approval(recommendation_id, user_id)
        return approvers

    def dismiss(self, recommendation_id: str, *, user_id: str, until: datetime) -> None:
        self.analysis.dismiss(recommendation_id, actor=ACTOR_PREFIX + user_id, until=until)

    def active_dismissals(
        self, recommendations: Sequence[Recommendation], now: datetime
    ) -> set[str]:
        return self.analysis.active_dismissals(recommendations, now)

    def first_delivery(self, key: str) -> bool:
        try:
            claimed = self.store.claim(f"slack-delivery#{key}", "slack", lease=DELIVERY_MEMORY)
        except PortError as error:
            logger.warning("could not record a Slack lazy delivery: %s", error)
            # Without the store a repeat cannot be told apart; running twice is the lesser harm
            # (changes still go through the change use case's own claim).
            return True
        return claimed.acquired

    def pending_approvals(self, limit: int) -> list[PendingApproval]:
        return [
            PendingApproval(stored=stored_view(item), approvers=item.approvers)
            for item in self.store.pending_approvals(limit)
        ]

    def recent_changes(self, limit: int) -> list[api.ChangeRecord]:
        return self.store.recent_changes(limit)

    def change_states(self, function: str) -> list[tuple[api.ChangeRecord, api.ChangeState]]:
        return self.changes.change_states(function)

    def get_change(self, change_id: str) -> api.ChangeRecord | None:
        return self.store.get_change(change_id)

    # ---- changes -----------------------------------------------------------------------

    def _outcome(self, result: ChangeResult, record: api.ChangeRecord | None) -> ChangeOutcome:
        return ChangeOutcome(
            kind=_OUTCOMES[result.kind], message=mentions(result.message), record=record
        )

    def apply(
        self, recommendation_id: str, *, user_id: str, approvers: Sequence[str]
    ) -> ChangeOutcome:
        result = self.changes.apply_recommendation(
            recommendation_id, ACTOR_PREFIX + user_id, approvers=approvers
        )
        record = result.record
        return self._outcome(result, record)

    def already_applied(self, recommendation_id: str) -> ChangeOutcome | None:
        result = self.changes.already_applied(recommendation_id)
        if result is None:
            return None
        record = result.record
        return self._outcome(result, record)

    def undo(self, change_id: str, *, user_id: str) -> ChangeOutcome:
        result = self.changes.undo_change(change_id, ACTOR_PREFIX + user_id)
        # The card shows the original change, now marked undone (not the undo's own record).
        return self._outcome(result, self.get_change(change_id))

    # ---- benchmarks --------------------------------------------------------------------

    def benchmark(self, recommendation_id: str, *, user_id: str) -> BenchmarkOutcome:
        return self.benchmarks.benchmark(recommendation_id, user_id=user_id)

"""What the bot needs from the AWS side, as a Protocol, plus the values that cross it.

``bot`` never imports boto3 or ``aws``: :class:`service.tunebot.Tunebot` implements
:class:`TunebotServices` from the use cases (``handlers/compose.py`` wires it), and tests
pass in-memory fakes. Everything that
decides *what* gets changed lives behind this interface and in the store; a Slack button only
ever carries a recommendation id or a change id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import Field

from recommendations.engine import FleetReport, FunctionReport
from recommendations.recommendation import Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot
from recommendations.tuning.result import TuningResult

# The store's change record is the bot's too: one type per concept (service/records.py).
from service.lifecycle import ChangeState as ChangeState
from service.records import ChangeRecord as ChangeRecord
from service.records import ChangeStatus as ChangeStatus


class FunctionAnalysis(Frozen):
    """A function as read just now and what the rules say about it."""

    snapshot: FunctionSnapshot
    report: FunctionReport


class StoredRecommendation(Frozen):
    """A recommendation as the store keeps it: with the facts the policy needs at apply time."""

    recommendation: Recommendation
    function_tags: dict[str, str] = Field(default_factory=dict)
    cloudformation_stack: str | None = None
    requested_by: str | None = None
    created_at: datetime
    # The function's monthly cost when analysed (None: traffic unknown), for the card's summary.
    function_monthly_cost_usd: float | None = None


class OutcomeKind(StrEnum):
    """How an apply or undo request ended."""

    DONE = "done"
    # The function no longer matches the configuration the recommendation was computed from.
    STALE = "stale"
    # Another click (or a retry) already did it; nothing changed this time.
    ALREADY_DONE = "already_done"
    NOT_FOUND = "not_found"
    FAILED = "failed"


class ChangeOutcome(Frozen):
    kind: OutcomeKind
    # One sentence for the person who clicked.
    message: str
    record: ChangeRecord | None = None


class BenchmarkOutcome(Frozen):
    """What a benchmark found; ``recommendation`` is its own appliable result, if any."""

    function: str
    summary: str
    invocations: int = Field(ge=0)
    tuning_cost_usd: float = Field(ge=0)
    results: tuple[str, ...] = ()
    recommendation: Recommendation | None = None
    # The full result and the function's region, for the card's table and chart.
    result: TuningResult | None = None
    region: str | None = None


class PendingApproval(Frozen):
    stored: StoredRecommendation
    approvers: tuple[str, ...]


class TunebotServices(Protocol):
    """The AWS side as the bot sees it. Methods raise ``BotError`` subclasses for users."""

    def analyze_function(self, name: str) -> FunctionAnalysis:
        """Read the function and run the rules; ``FunctionNotFoundError`` with close names."""
        ...

    def scan_fleet(self) -> FleetReport: ...

    def save_recommendations(
        self, analysis: FunctionAnalysis, *, requested_by: str | None
    ) -> None: ...

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation | None: ...

    def recommendations_for(self, function_arn: str) -> Sequence[StoredRecommendation]:
        """The latest stored recommendations of one function, best first."""
        ...

    def function_tags(self, function_arn: str) -> dict[str, str]:
        """The function's tags as they are now (not as stored with a recommendation): who may
        change it is decided from these. ``ServiceError`` with one sentence when unreadable."""
        ...

    def add_approval(self, recommendation_id: str, user_id: str) -> tuple[str, ...]:
        """Record an approval (idempotent per user); returns every approver so far."""
        ...

    def apply(
        self, recommendation_id: str, *, user_id: str, approvers: Sequence[str]
    ) -> ChangeOutcome:
        """Apply at most once, after re-reading the function (stale check), and audit it."""
        ...

    def already_applied(self, recommendation_id: str) -> ChangeOutcome | None:
        """``ALREADY_DONE`` while the recommendation's change is in effect (applied, not
        undone, not reverted since by a deployment); None when it may be applied."""
        ...

    def get_change(self, change_id: str) -> ChangeRecord | None: ...

    def undo(self, change_id: str, *, user_id: str) -> ChangeOutcome:
        """Apply the inverse at most once, with the same stale check, and audit it."""
        ...

    def dismiss(self, recommendation_id: str, *, user_id: str, until: datetime) -> None: ...

    def active_dismissals(
        self, recommendations: Sequence[Recommendation], now: datetime
    ) -> set[str]:
        """Ids of the recommendations whose rule is dismissed for their function until after now."""
        ...

    def benchmark(self, recommendation_id: str, *, user_id: str) -> BenchmarkOutcome:
        """Benchmark the recommendation's function; a resulting recommendation is stored too."""
        ...

    def first_delivery(self, key: str) -> bool:
        """True the first time ``key`` is seen (for at least 6 hours), False for a repeat.

        Lambda may deliver an asynchronous invocation (a lazy listener) more than once; the
        handler asks this before running one, so a repeat posts no second card.
        """
        ...

    def pending_approvals(self, limit: int) -> Sequence[PendingApproval]: ...

    def recent_changes(self, limit: int) -> Sequence[ChangeRecord]: ...

    def change_states(self, function: str) -> Sequence[tuple[ChangeRecord, ChangeState]]:
        """The latest change per recommendation of ``function``, newest first, with its state
        read back from the function (``service.lifecycle``)."""
        ...

    def top_savings(self, limit: int) -> Sequence[Recommendation]:
        """The largest savings known (stored, not scanned), without applied or dismissed ones."""
        ...

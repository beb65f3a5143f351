"""What the service layer needs from the outside world, as Protocols; ``aws`` implements them.

Adapters raise :class:`service.errors.PortError` (or a subclass) for anything that failed, with
``retryable`` set when trying again later may succeed. A use case imports these Protocols, never
an implementation: ``handlers.compose`` passes the real ones in, tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from recommendations.changes import Change
from recommendations.recommendation import Recommendation
from recommendations.snapshot import FleetSnapshot, FunctionSnapshot
from recommendations.tuning.search import ProbeRunner
from service.records import (
    ApplyOutcome,
    AuditRecord,
    ChangeObservation,
    ChangeRecord,
    Claim,
    ClaimResult,
    ClaimStatus,
    Dismissal,
    StoredRecommendation,
)

# ---- reading functions and the fleet -------------------------------------------------------


class FunctionSource(Protocol):
    """Lambda functions as they are now, with their traffic statistics."""

    def read_function(self, name: str, *, now: datetime) -> FunctionSnapshot | None:
        """One function of this account and region; None when there is no such function."""
        ...

    def function_names(self) -> list[str]:
        """The names of this account and region's functions (for "did you mean")."""
        ...

    def read_fleet(self, *, now: datetime) -> FleetSnapshot:
        """Every function of every account and region tunebot is configured to read."""
        ...

    def fleet_function_names(self) -> list[str]:
        """The names of the fleet's functions, without reading their configuration."""
        ...

    def function_tags(self, function_arn: str) -> dict[str, str]:
        """The function's tags as they are now, from its own region."""
        ...

    def read_configuration(self, name: str) -> FunctionSnapshot | None:
        """The function's configuration as ``read_function`` reads it (mappings, concurrency,
        async config, log group included) without statistics or package scan; None when
        there is no such function."""
        ...

    def function_revision(self, name: str) -> FunctionRevision | None:
        """The function's ARN and revision from one configuration read (no metrics, logs or
        package); None when there is no such function."""
        ...


# ---- one analysis per function revision ----------------------------------------------------


def revision_key(revision_id: str | None, code_sha256: str | None) -> str | None:
    """What identifies a function revision: its RevisionId (any configuration change) and
    CodeSha256 (its code); None when neither is known, which is never cached."""
    if not revision_id and not code_sha256:
        return None
    return f"{revision_id or '-'}/{code_sha256 or '-'}"


@dataclass(frozen=True)
class FunctionRevision:
    function_arn: str
    revision: str | None


@dataclass(frozen=True)
class CachedAnalysis:
    """What one read of a function found, shared by every surface while its revision holds.

    ``snapshot`` is the function as read; what a revision fixes and is costly to read, its
    statistics (metrics and logs) and, when ``package_read``, its package scan, is reused
    over a fresh read of the configuration, and the rules run at ``analysed_at``: every
    surface gets the same confidence and evidence, and changes that keep the revision
    (event source mappings, concurrency, log retention) are still seen. ``package_read`` is
    False for a fleet scan's read, which leaves packages out: a one-function analysis does
    not accept it.
    """

    function_arn: str
    revision: str
    snapshot: FunctionSnapshot
    analysed_at: datetime
    expires_at: datetime
    package_read: bool


class AnalysisCache(Protocol):
    """Analyses by function revision (``aws.analysis_cache.DynamoAnalysisCache``)."""

    def get(self, function_arn: str, revision: str, *, now: datetime) -> CachedAnalysis | None:
        """The analysis of exactly this revision, unless it expired before ``now``."""
        ...

    def put(self, analysis: CachedAnalysis) -> None:
        """Keep ``analysis`` until its ``expires_at`` (replacing one of the same revision)."""
        ...


# ---- the state store -----------------------------------------------------------------------


class RecommendationStore(Protocol):
    """Recommendations, approvals, dismissals and the change history (``aws.store.StateStore``)."""

    def put_recommendation(
        self,
        recommendation: Recommendation,
        function: FunctionSnapshot | None = None,
        *,
        requested_by: str | None = None,
    ) -> StoredRecommendation: ...

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation | None: ...

    def recommendations_for(self, function: str, limit: int = 50) -> list[StoredRecommendation]: ...

    def add_approval(self, recommendation_id: str, user: str) -> tuple[bool, tuple[str, ...]]: ...

    def pending_approvals(self, limit: int = 20) -> list[StoredRecommendation]: ...

    def claim(self, key: str, actor: str, *, lease: timedelta = ...) -> ClaimResult: ...

    def get_change(self, change_id: str) -> ChangeRecord | None: ...

    def recent_changes(self, limit: int = 20, *, intended: bool = False) -> list[ChangeRecord]: ...

    def changes_for_function(self, function: str, limit: int = 20) -> list[ChangeRecord]: ...

    def dismiss(
        self, function: str, rule_id: str, *, until: datetime, actor: str, reason: str = ""
    ) -> Dismissal: ...

    def dismissals(self, function: str) -> list[Dismissal]: ...


# ---- changes: applying, observing, claiming ------------------------------------------------


class ChangeApplier(Protocol):
    """Makes one change to one function, after checking it still holds."""

    def apply(
        self, change: Change, *, function_arn: str | None, expected_revision_id: str | None
    ) -> ApplyOutcome:
        """Apply ``change`` to the function (by ARN when known, else by name).

        Raises :class:`service.errors.StaleChange` and changes nothing when the target no
        longer reads the change's ``before`` or its revision is not ``expected_revision_id``;
        :class:`service.errors.ChangeFailed` for any other failure (``retryable`` set when
        trying again later may succeed).
        """
        ...


class ChangeObserver(Protocol):
    """Reads what a change's target is now, to settle an attempt whose outcome is unknown."""

    def observe(self, change: Change, function_arn: str | None) -> ChangeObservation:
        """Whether ``change`` is in effect now. Raises :class:`service.errors.ChangeFailed`
        when the target cannot be read."""
        ...


class ChangeStore(Protocol):
    """The state the change use case keeps: stored recommendations, claims (one attempt at a
    time per key), write-ahead change records and the audit log.

    Writes raise :class:`service.errors.StoreFailed`; a claim write made after the claim was
    taken over raises :class:`service.errors.ClaimLost`.
    """

    def now(self) -> datetime: ...

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation | None: ...

    def mark_recommendation_applied(self, recommendation_id: str, change_id: str) -> None: ...

    def mark_recommendation_undone(self, recommendation_id: str) -> None: ...

    def claim(self, key: str, actor: str, *, lease: timedelta = ...) -> ClaimResult: ...

    def get_claim(self, key: str) -> Claim | None: ...

    def finish_claim(
        self,
        key: str,
        change_id: str,
        status: ClaimStatus,
        message: str = "",
        *,
        record_as: str | None = None,
    ) -> None: ...

    def release_claim(self, key: str) -> None: ...

    def put_change(self, record: ChangeRecord, *, exist_ok: bool = False) -> None: ...

    def complete_change(self, record: ChangeRecord) -> bool: ...

    def get_change(self, change_id: str) -> ChangeRecord | None: ...

    def mark_change_undone(self, change_id: str, undo_change_id: str, actor: str) -> bool: ...

    def changes_for_function(
        self, function: str, limit: int = 20, *, intended: bool = False
    ) -> list[ChangeRecord]: ...

    def recent_changes(self, limit: int = 20, *, intended: bool = False) -> list[ChangeRecord]: ...

    def append_audit(self, record: AuditRecord, *, exist_ok: bool = False) -> None: ...

    def recent_audit(self, limit: int = 50, function: str | None = None) -> list[AuditRecord]: ...


# ---- benchmarks ----------------------------------------------------------------------------


# An invoker for one function's benchmark. One that is a context manager (the real one, whose
# exit deletes its temporary copies of the function) is entered around the run.
InvokerFactory = Callable[[FunctionSnapshot], ProbeRunner | AbstractContextManager[ProbeRunner]]

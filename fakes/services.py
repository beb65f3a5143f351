"""An in-memory ``TunebotServices`` for bot tests: functions, recommendations and changes in dicts.

It keeps the contract the real wiring keeps: a stale check against the change's ``before``,
at most one apply per recommendation and one undo per change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from recommendations.changes import MemoryChange
from recommendations.engine import FleetReport, FunctionReport, rank_key
from recommendations.plan import FunctionPlan
from recommendations.pricing import monthly_cost
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation, Severity
from recommendations.snapshot import FunctionSnapshot, FunctionStats
from service.api import (
    BenchmarkOutcome,
    ChangeOutcome,
    ChangeRecord,
    ChangeState,
    ChangeStatus,
    FunctionAnalysis,
    OutcomeKind,
    PendingApproval,
    StoredRecommendation,
)
from service.errors import FunctionNotFoundError, ServiceError
from service.lifecycle import latest_changes, state_of
from service.records import ACTOR_PREFIX, Verdict

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def snapshot(name: str = "checkout-api", memory: int = 1024, **extra: object) -> FunctionSnapshot:
    fields: dict[str, object] = {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "account_id": "123456789012",
        "region": "us-east-1",
        "runtime": "python3.12",
        "memory_mb": memory,
        "timeout_s": 30,
        "tags": {"tunebot:managed": "true"},
        "stats": FunctionStats(
            window_days=14,
            invocations=4_000_000,
            duration_avg_ms=120.0,
            billed_duration_avg_ms=121.0,
            max_memory_used_mb=180,
        ),
    }
    fields.update(extra)
    return FunctionSnapshot.model_validate(fields)


def memory_recommendation(
    fn: FunctionSnapshot, after: int = 512, **extra: object
) -> Recommendation:
    fields: dict[str, object] = {
        "function": fn.name,
        "function_arn": fn.arn,
        "region": fn.region,
        "account_id": fn.account_id,
        "rule_id": "MEM-001",
        "category": Category.MEMORY,
        "severity": Severity.MEDIUM,
        "title": f"Lower memory to {after} MB",
        "rationale": "Peak memory used is 180 MB of 1024 MB; the CPU is not the bottleneck.",
        "evidence": (
            Evidence(label="Max memory used", value=180, unit="MB", source="logs"),
            Evidence(label="Invocations", value=4_000_000, source="metrics"),
        ),
        "confidence": Confidence.HIGH,
        "change": MemoryChange(function_name=fn.name, before=fn.memory_mb, after=after),
        "monthly_cost_before_usd": 20.0,
        "monthly_cost_after_usd": 10.0,
        "monthly_savings_usd": 10.0,
    }
    fields.update(extra)
    return Recommendation.model_validate(fields)


class InMemoryServices:
    def __init__(self, functions: Sequence[FunctionSnapshot] = ()) -> None:
        self.functions = {fn.name: fn for fn in functions}
        self.rules: dict[str, list[Recommendation]] = {}
        self.stored: dict[str, StoredRecommendation] = {}
        self.approvals: dict[str, list[str]] = {}
        self.changes: dict[str, ChangeRecord] = {}
        self.applied: dict[str, str] = {}  # recommendation id -> change id
        self.dismissals: dict[str, datetime] = {}
        self.apply_calls = 0
        self.deliveries: set[str] = set()
        # Tags as they are "now" by function ARN, when a test changed them after /tune.
        self.live_tags: dict[str, dict[str, str]] = {}
        # When changes happen: now, as the alert handlers' own clock reads it (a change stamped
        # with the fixed NOW would fall out of their one-week look-back as real time passes).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def recommend(self, *recs: Recommendation) -> None:
        for rec in recs:
            self.rules.setdefault(rec.function, []).append(rec)

    def analyze_function(self, name: str) -> FunctionAnalysis:
        fn = self.functions.get(name)
        if fn is None:
            import difflib

            raise FunctionNotFoundError(name, difflib.get_close_matches(name, list(self.functions)))
        recs = tuple(sorted(self.rules.get(name, []), key=rank_key))
        report = FunctionReport(
            function=fn.name,
            function_arn=fn.arn,
            region=fn.region,
            account_id=fn.account_id,
            results=(),
            recommendations=recs,
            # The fake's recommendations are its own: the plan only adds them up.
            plan=FunctionPlan(
                function=fn.name,
                function_arn=fn.arn,
                savings_usd=round(sum(r.monthly_savings_usd or 0.0 for r in recs), 2),
                items=tuple(r.id for r in recs if r.monthly_savings_usd is not None),
            ),
        )
        return FunctionAnalysis(snapshot=fn, report=report)

    def scan_fleet(self) -> FleetReport:
        analyses = [self.analyze_function(name) for name in self.functions]
        for analysis in analyses:
            self.save_recommendations(analysis, requested_by=None)
        reports = tuple(analysis.report for analysis in analyses)
        recs = tuple(sorted((r for rep in reports for r in rep.recommendations), key=rank_key))
        return FleetReport(functions=reports, recommendations=recs)

    def save_recommendations(self, analysis: FunctionAnalysis, *, requested_by: str | None) -> None:
        cost = monthly_cost(analysis.snapshot, at=NOW)
        for rec in analysis.report.recommendations:
            self.stored[rec.id] = StoredRecommendation(
                recommendation=rec,
                function_tags=analysis.snapshot.tags,
                cloudformation_stack=analysis.snapshot.cloudformation_stack,
                requested_by=requested_by,
                created_at=NOW,
                function_monthly_cost_usd=cost.total_usd if cost is not None else None,
            )

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation | None:
        return self.stored.get(recommendation_id)

    def recommendations_for(self, function_arn: str) -> list[StoredRecommendation]:
        found = [s for s in self.stored.values() if s.recommendation.function_arn == function_arn]
        return sorted(found, key=lambda s: rank_key(s.recommendation))

    def function_tags(self, function_arn: str) -> dict[str, str]:
        if function_arn in self.live_tags:
            return dict(self.live_tags[function_arn])
        for fn in self.functions.values():
            if fn.arn == function_arn:
                return dict(fn.tags)
        # Recommendations a test stored directly: their tags stand for the live ones.
        for stored in self.stored.values():
            if stored.recommendation.function_arn == function_arn:
                return dict(stored.function_tags)
        raise ServiceError(f"Function '{function_arn}' was not found.")

    def add_approval(self, recommendation_id: str, user_id: str) -> tuple[str, ...]:
        approvers = self.approvals.setdefault(recommendation_id, [])
        if user_id not in approvers:
            approvers.append(user_id)
        return tuple(approvers)

    def apply(
        self, recommendation_id: str, *, user_id: str, approvers: Sequence[str]
    ) -> ChangeOutcome:
        self.apply_calls += 1
        stored = self.stored.get(recommendation_id)
        if stored is None or stored.recommendation.change is None:
            return ChangeOutcome(kind=OutcomeKind.NOT_FOUND, message="Unknown recommendation.")
        if recommendation_id in self.applied:
            record = self.changes[self.applied[recommendation_id]]
            return ChangeOutcome(
                kind=OutcomeKind.ALREADY_DONE,
                message=f"Already applied by <@{record.applied_by}>; nothing changed.",
                record=record,
            )
        change = stored.recommendation.change
        assert isinstance(change, MemoryChange)
        fn = self.functions[change.function_name]
        if fn.memory_mb != change.before:
            return ChangeOutcome(
                kind=OutcomeKind.STALE,
                message="The function changed since this was recommended; run /tune again.",
            )
        self.functions[fn.name] = fn.model_copy(update={"memory_mb": change.after})
        record = ChangeRecord(
            change_id=f"chg-{len(self.changes) + 1}",
            recommendation_id=recommendation_id,
            function_name=fn.name,
            function_arn=fn.arn,
            change=change,
            description=change.describe(),
            actor=ACTOR_PREFIX + user_id,
            applied_at=self.clock(),
            approvers=tuple(ACTOR_PREFIX + user for user in approvers),
        )
        self.changes[record.change_id] = record
        self.applied[recommendation_id] = record.change_id
        return ChangeOutcome(kind=OutcomeKind.DONE, message="Applied.", record=record)

    def already_applied(self, recommendation_id: str) -> ChangeOutcome | None:
        if recommendation_id not in self.applied:
            return None
        record = self.changes[self.applied[recommendation_id]]
        return ChangeOutcome(
            kind=OutcomeKind.ALREADY_DONE,
            message=f"Already applied by <@{record.applied_by}>; nothing changed.",
            record=record,
        )

    def get_change(self, change_id: str) -> ChangeRecord | None:
        return self.changes.get(change_id)

    def undo(self, change_id: str, *, user_id: str) -> ChangeOutcome:
        record = self.changes.get(change_id)
        if record is None:
            return ChangeOutcome(kind=OutcomeKind.NOT_FOUND, message="Unknown change.")
        if record.status is ChangeStatus.UNDONE:
            return ChangeOutcome(
                kind=OutcomeKind.ALREADY_DONE,
                message="Already undone; nothing changed.",
                record=record,
            )
        change = self.stored[record.recommendation_id].recommendation.change
        assert isinstance(change, MemoryChange)
        fn = self.functions[change.function_name]
        if fn.memory_mb != change.after:
            return ChangeOutcome(
                kind=OutcomeKind.STALE, message="The function changed since; undo it by hand."
            )
        self.functions[fn.name] = fn.model_copy(update={"memory_mb": change.before})
        record = record.model_copy(
            update={
                "status": ChangeStatus.UNDONE,
                "undone_by": ACTOR_PREFIX + user_id,
                "undone_at": self.clock(),
            }
        )
        self.changes[change_id] = record
        # Undone, the recommendation may be applied again (as the real claim is released).
        self.applied.pop(record.recommendation_id or "", None)
        return ChangeOutcome(kind=OutcomeKind.DONE, message="Undone.", record=record)

    def dismiss(self, recommendation_id: str, *, user_id: str, until: datetime) -> None:
        self.dismissals[recommendation_id] = until

    def active_dismissals(
        self, recommendations: Sequence[Recommendation], now: datetime
    ) -> set[str]:
        return {r.id for r in recommendations if self.dismissals.get(r.id, now) > now}

    def benchmark(self, recommendation_id: str, *, user_id: str) -> BenchmarkOutcome:
        stored = self.stored[recommendation_id]
        fn = self.functions[stored.recommendation.function]
        rec = memory_recommendation(fn, after=640, rule_id="TUNE-001", title="Set memory to 640 MB")
        self.stored[rec.id] = stored.model_copy(update={"recommendation": rec})
        return BenchmarkOutcome(
            function=fn.name,
            summary="640 MB is the cheapest configuration: 31% cheaper, 4% slower.",
            invocations=60,
            tuning_cost_usd=0.0012,
            results=("512 MB  130 ms  $0.0000011", "640 MB  101 ms  $0.0000010"),
            recommendation=rec,
        )

    def first_delivery(self, key: str) -> bool:
        first = key not in self.deliveries
        self.deliveries.add(key)
        return first

    def pending_approvals(self, limit: int) -> list[PendingApproval]:
        return [
            PendingApproval(stored=self.stored[rec_id], approvers=tuple(users))
            for rec_id, users in self.approvals.items()
            if rec_id not in self.applied
        ][:limit]

    def recent_changes(self, limit: int) -> list[ChangeRecord]:
        return list(reversed(self.changes.values()))[:limit]

    def change_states(self, function: str) -> list[tuple[ChangeRecord, ChangeState]]:
        """As the real service: the latest change per recommendation, read back from the fake
        function (a test that sets memory by hand sees the change as set back)."""
        mine = [r for r in self.changes.values() if function in (r.function_name, r.function_arn)]
        states = []
        for record in sorted(
            latest_changes(mine).values(), key=lambda r: r.applied_at, reverse=True
        ):
            observed = None
            fn = self.functions.get(record.function_name)
            change = record.change
            if record.in_force and fn is not None and isinstance(change, MemoryChange):
                observed = (
                    Verdict.TOOK_EFFECT
                    if fn.memory_mb == change.after
                    else Verdict.NO_EFFECT
                    if fn.memory_mb == change.before
                    else Verdict.NEITHER
                )
            states.append((record, state_of(record, observed)))
        return states

    def top_savings(self, limit: int) -> list[Recommendation]:
        return self.scan_fleet().recommendations[:limit]

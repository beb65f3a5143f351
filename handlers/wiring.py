"""The bot's services (``service.api.TunebotServices``) built from the aws/ pieces.

One small factory, :func:`build_services`, used by every Lambda handler that talks to Slack
(``handlers.slack``, the alarm, cost-anomaly and digest handlers). Call it once per container:
the clients it creates (through ``aws.session.AwsSession``) are reused by warm invocations.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from aws.errors import AwsError
from aws.errors import FunctionNotFoundError as AwsFunctionNotFound
from aws.session import AwsSession
from aws.store import ChangeRecord as StoreChangeRecord
from aws.store import ChangeStatus as StoreChangeStatus
from aws.store import StateStore
from aws.store import StoredRecommendation as StoreRecommendation
from recommendations.changes import ArchitectureChange, MemoryChange
from recommendations.engine import FleetReport, analyze_fleet, analyze_function, rank_key
from recommendations.pricing import monthly_cost
from recommendations.recommendation import (
    Category,
    Evidence,
    Recommendation,
    Severity,
)
from recommendations.rules.base import Rule
from recommendations.snapshot import Architecture, FunctionSnapshot
from service.api import (
    BenchmarkOutcome,
    ChangeOutcome,
    ChangeRecord,
    ChangeStatus,
    FunctionAnalysis,
    OutcomeKind,
    PendingApproval,
    StoredRecommendation,
)
from service.changes import ChangeResult, ChangeService, ResultKind
from service.errors import FunctionNotFoundError, ServiceError

logger = logging.getLogger(__name__)

# What this module calls itself (the aws/ modules it uses declare theirs), plus the
# self-invocation of the Slack function that Bolt's lazy listeners need.
IAM_ACTIONS: tuple[str, ...] = ("secretsmanager:GetSecretValue", "lambda:InvokeFunction")

ACTOR_PREFIX = "slack:"
# Recommendations stored within this span of the newest one belong to the same analysis.
SAME_ANALYSIS = timedelta(minutes=5)
# The Home tab reads this many recommendation lists from the store at once.
HOME_READERS = 8
# Applied changes this recent keep their recommendation out of the Home tab's top savings.
APPLIED_LOOKUP = 200
BENCHMARK_RULE_ID = "TUNE-001"
# Lambda keeps retrying an asynchronous event for up to 6 hours.
DELIVERY_MEMORY = timedelta(hours=6)
# How many of a fleet scan's best recommendations are stored, for the scan card's "Show all"
# (bot.views.SCAN_LIST_SIZE) and the Home tab.
STORED_FROM_SCAN = 100

# An invoker for benchmarks: takes the function, returns something with
# ``invoke(probes) -> observations`` (aws.invokers.base.Invoker). One that is a context manager
# (the real Lambda invoker, whose exit deletes its temporary copies) is entered around the run.
InvokerFactory = Callable[[FunctionSnapshot], Any]
# A "Benchmark first" click runs in the Slack function's lazy listener (600 s timeout): these
# caps bound what one click may spend and how long it may run, leaving time to post the result.
BENCHMARK_MAX_INVOCATIONS = 150
BENCHMARK_MAX_COST_USD = 0.50
BENCHMARK_TIME_BUDGET_S = 420.0

_secrets_lock = threading.Lock()
_secrets: dict[str, dict[str, str]] = {}
_SLACK_ACTOR = re.compile(r"slack:([UW][A-Z0-9]{2,})")


def read_slack_secret(arn: str, client: Any = None) -> dict[str, str]:
    """The Secrets Manager JSON at ``arn`` (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET), cached.

    Raises RuntimeError with one sentence; the handlers log it and answer 500.
    """
    with _secrets_lock:
        if arn in _secrets:
            return _secrets[arn]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        secrets = client or AwsSession().client("secretsmanager")
        text = secrets.get_secret_value(SecretId=arn)["SecretString"]
        value = json.loads(text)
    except (ClientError, BotoCoreError) as error:
        raise RuntimeError(f"Could not read the Slack secret {arn}: {error}") from error
    except (KeyError, json.JSONDecodeError) as error:
        raise RuntimeError(f"The Slack secret {arn} is not a JSON object string.") from error
    if not isinstance(value, dict):
        raise RuntimeError(f"The Slack secret {arn} is not a JSON object.")
    found = {key: str(item) for key, item in value.items() if isinstance(item, str)}
    with _secrets_lock:
        _secrets[arn] = found
    return found


def _utc_now() -> datetime:
    return datetime.now(UTC)


def lambda_copy_invoker(fn: FunctionSnapshot) -> Any:
    """Benchmarks on temporary copies of the real function (never the function itself), which
    ``LambdaBenchmark`` deletes when the run ends; invocations stop when the time budget is spent.

    The ARN, not the name, is invoked: a function of another account is then refused by Lambda
    instead of a same-named function of this account being measured.
    """
    from aws.invokers.lambda_invoker import LambdaBenchmark

    deadline = time.monotonic() + BENCHMARK_TIME_BUDGET_S
    return LambdaBenchmark(
        fn.arn,
        region=fn.region,
        in_place=False,
        should_stop=lambda: time.monotonic() > deadline,
    )


def _user_of(actor: str) -> str:
    return actor[len(ACTOR_PREFIX) :] if actor.startswith(ACTOR_PREFIX) else actor


def _sentence(message: str) -> str:
    """Actors in the AWS side's sentences become Slack mentions."""
    return _SLACK_ACTOR.sub(r"<@\1>", message)


def _record(record: StoreChangeRecord) -> ChangeRecord:
    return ChangeRecord(
        change_id=record.change_id,
        recommendation_id=record.recommendation_id or "",
        function=record.function_name,
        description=record.description,
        applied_by=_user_of(record.actor),
        applied_at=record.applied_at,
        approvers=tuple(_user_of(user) for user in record.approvers),
        status=ChangeStatus.UNDONE
        if record.status is StoreChangeStatus.UNDONE
        else ChangeStatus.APPLIED,
        undone_by=_user_of(record.undone_by) if record.undone_by else None,
        undone_at=record.undone_at,
    )


def _stored(stored: StoreRecommendation) -> StoredRecommendation:
    function = stored.function
    cost = monthly_cost(function, at=stored.stored_at) if function is not None else None
    return StoredRecommendation(
        recommendation=stored.recommendation,
        function_tags=dict(function.tags) if function is not None else {},
        cloudformation_stack=function.cloudformation_stack if function is not None else None,
        requested_by=stored.requested_by,
        created_at=stored.stored_at,
        function_monthly_cost_usd=cost.total_usd if cost is not None else None,
    )


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


class AwsServices:
    """``TunebotServices`` over the account boto3 resolves (``AWS_ENDPOINT_URL`` honoured)."""

    def __init__(
        self,
        session: AwsSession,
        store: StateStore,
        changes: ChangeService,
        *,
        rules: Sequence[Rule] | None = None,
        invoker_factory: InvokerFactory | None = None,
        scan_packages: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.session = session
        self.store = store
        self.changes = changes
        self.rules = rules
        self.invoker_factory = invoker_factory
        self.scan_packages = scan_packages
        self.clock = clock

    # ---- reading and analysing ---------------------------------------------------------

    def _function_names(self) -> list[str]:
        from aws import inventory

        try:
            return inventory.list_function_names(self.session)
        except AwsError:
            return []

    def analyze_function(self, name: str) -> FunctionAnalysis:
        from aws.scan import ScanOptions, scan_function

        try:
            snapshot = scan_function(
                name,
                self.session,
                ScanOptions(now=self.clock(), scan_packages=self.scan_packages),
            )
        except AwsFunctionNotFound:
            names = self._function_names()
            raise FunctionNotFoundError(
                name, difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            ) from None
        except AwsError as error:
            raise ServiceError(str(error)) from error
        report = analyze_function(snapshot, now=self.clock(), rules=self.rules)
        return FunctionAnalysis(snapshot=snapshot, report=report)

    def scan_fleet(self) -> FleetReport:
        """Every account and region of ``TUNEBOT_ACCOUNTS`` (default: this account and region)."""
        from aws.scan import ScanOptions, merge_snapshots, scan_all, sessions_for
        from aws.session import account_targets

        try:
            sessions = sessions_for(account_targets(self.environ), (), base=self.session)
            # Package downloads for a whole account are left to `tunebot scan`.
            options = ScanOptions(now=self.clock(), scan_packages=False)
            fleet = merge_snapshots(scan_all(sessions, options))
        except AwsError as error:
            raise ServiceError(str(error)) from error
        report = analyze_fleet(fleet, rules=self.rules, now=self.clock())
        self._store_top(fleet.functions, report)
        return report

    def _store_top(self, functions: Sequence[FunctionSnapshot], report: FleetReport) -> None:
        """Store the recommendations a scan card or the Home tab may show, so their buttons
        work (a button carries only an id); the long tail is left to `tunebot scan`."""
        by_arn = {fn.arn: fn for fn in functions}
        ranked = sorted(report.recommendations, key=lambda rec: -(rec.monthly_savings_usd or 0.0))
        for rec in ranked[:STORED_FROM_SCAN]:
            self.store.put_recommendation(rec, by_arn.get(rec.function_arn))

    def top_savings(self, limit: int) -> list[Recommendation]:
        """The best stored recommendations across the fleet (from `/tune`, scans, alerts and the
        digest), without scanning: the Home tab opens often, a scan reads every function.

        Each function contributes its latest analysis; applied (not undone) and dismissed
        recommendations are left out.
        """
        from concurrent.futures import ThreadPoolExecutor

        from aws import inventory
        from aws.scan import sessions_for
        from aws.session import account_targets

        try:
            sessions = sessions_for(account_targets(self.environ), (), base=self.session)
            names = sorted({name for s in sessions for name in inventory.list_function_names(s)})
            with ThreadPoolExecutor(max_workers=HOME_READERS) as pool:
                latest = [
                    stored.recommendation
                    for found in pool.map(self.recommendations_for, names)
                    for stored in found
                ]
        except AwsError as error:
            raise ServiceError(str(error)) from error
        applied = {
            record.recommendation_id
            for record in self.recent_changes(APPLIED_LOOKUP)
            if record.status is ChangeStatus.APPLIED
        }
        saving = [
            rec for rec in latest if (rec.monthly_savings_usd or 0.0) > 0 and rec.id not in applied
        ]
        dismissed = self.active_dismissals(saving, self.clock())
        ranked = sorted(saving, key=lambda rec: -(rec.monthly_savings_usd or 0.0))
        return [rec for rec in ranked if rec.id not in dismissed][:limit]

    # ---- the store ---------------------------------------------------------------------

    def save_recommendations(self, analysis: FunctionAnalysis, *, requested_by: str | None) -> None:
        for rec in analysis.report.recommendations:
            self.store.put_recommendation(rec, analysis.snapshot, requested_by=requested_by)

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation | None:
        stored = self.store.get_recommendation(recommendation_id)
        return _stored(stored) if stored is not None else None

    def recommendations_for(self, function_arn: str) -> list[StoredRecommendation]:
        found = self.store.recommendations_for(function_arn, limit=200)
        if not found:
            return []
        # A benchmark's recommendation, stored when the benchmark ends, joins the analysis
        # before it rather than starting a new one of its own.
        analysed = [item for item in found if item.recommendation.rule_id != BENCHMARK_RULE_ID]
        newest = max(item.stored_at for item in analysed or found)
        latest = [item for item in found if newest - item.stored_at <= SAME_ANALYSIS]
        return [_stored(item) for item in sorted(latest, key=lambda s: rank_key(s.recommendation))]

    def function_tags(self, function_arn: str) -> dict[str, str]:
        from aws.change_adapters import region_of
        from aws.function_tags import read_function_tags

        region = region_of(function_arn)
        session = self.session.for_region(region) if region else self.session
        try:
            return read_function_tags(session.client("lambda"), function_arn)
        except AwsError as error:
            raise ServiceError(str(error)) from error

    def add_approval(self, recommendation_id: str, user_id: str) -> tuple[str, ...]:
        _, approvers = self.store.add_approval(recommendation_id, user_id)
        return approvers

    def dismiss(self, recommendation_id: str, *, user_id: str, until: datetime) -> None:
        stored = self.store.get_recommendation(recommendation_id)
        if stored is None:
            raise ServiceError("tunebot no longer knows this recommendation: run /tune again.")
        rec = stored.recommendation
        self.store.dismiss(
            rec.function, rec.rule_id, until=until, actor=ACTOR_PREFIX + user_id, reason=rec.title
        )

    def active_dismissals(
        self, recommendations: Sequence[Recommendation], now: datetime
    ) -> set[str]:
        by_function: dict[str, set[str]] = {}
        dismissed: set[str] = set()
        for rec in recommendations:
            if rec.function not in by_function:
                by_function[rec.function] = {
                    d.rule_id for d in self.store.dismissals(rec.function) if d.until > now
                }
            if rec.rule_id in by_function[rec.function]:
                dismissed.add(rec.id)
        return dismissed

    def first_delivery(self, key: str) -> bool:
        try:
            claimed = self.store.claim(f"slack-delivery#{key}", "slack", lease=DELIVERY_MEMORY)
        except AwsError as error:
            # Without the store a repeat cannot be told apart; running twice is the lesser harm
            # (changes still go through the change service's own claim).
            logger.warning("could not record a Slack lazy delivery: %s", error)
            return True
        return claimed.acquired

    def pending_approvals(self, limit: int) -> list[PendingApproval]:
        return [
            PendingApproval(stored=_stored(item), approvers=item.approvers)
            for item in self.store.pending_approvals(limit)
        ]

    def recent_changes(self, limit: int) -> list[ChangeRecord]:
        return [_record(record) for record in self.store.recent_changes(limit)]

    def get_change(self, change_id: str) -> ChangeRecord | None:
        record = self.store.get_change(change_id)
        return _record(record) if record is not None else None

    # ---- changes -----------------------------------------------------------------------

    def _outcome(self, result: ChangeResult, record: ChangeRecord | None) -> ChangeOutcome:
        return ChangeOutcome(
            kind=_OUTCOMES[result.kind], message=_sentence(result.message), record=record
        )

    def apply(
        self, recommendation_id: str, *, user_id: str, approvers: Sequence[str]
    ) -> ChangeOutcome:
        result = self.changes.apply_recommendation(
            recommendation_id, ACTOR_PREFIX + user_id, approvers=approvers
        )
        record = _record(result.record) if result.record is not None else None
        return self._outcome(result, record)

    def already_applied(self, recommendation_id: str) -> ChangeOutcome | None:
        result = self.changes.already_applied(recommendation_id)
        if result is None:
            return None
        record = _record(result.record) if result.record is not None else None
        return self._outcome(result, record)

    def undo(self, change_id: str, *, user_id: str) -> ChangeOutcome:
        result = self.changes.undo_change(change_id, ACTOR_PREFIX + user_id)
        # The card shows the original change, now marked undone (not the undo's own record).
        return self._outcome(result, self.get_change(change_id))

    # ---- benchmarks --------------------------------------------------------------------

    def benchmark(self, recommendation_id: str, *, user_id: str) -> BenchmarkOutcome:
        stored = self.store.get_recommendation(recommendation_id)
        if stored is None or stored.function is None:
            raise ServiceError("tunebot no longer knows this recommendation: run /tune again.")
        if self.invoker_factory is None:
            raise ServiceError(
                "Benchmarks are not available in this deployment: no benchmark invoker is "
                "configured. Run `tunebot tune` from a workstation instead."
            )
        fn = stored.function
        from recommendations.tuning.outcome import result as tuning_result
        from recommendations.tuning.request import TuningRequest
        from recommendations.tuning.search import run, start

        stats = fn.stats
        architectures: tuple[Architecture, ...] = (fn.architecture,)
        change = stored.recommendation.change
        if isinstance(change, ArchitectureChange) and change.after is not fn.architecture:
            # An architecture change is checked by measuring both architectures.
            architectures = (fn.architecture, change.after)
        request = TuningRequest(
            function_name=fn.name,
            region=fn.region,
            architectures=architectures,
            current_memory_mb=fn.memory_mb,
            current_architecture=fn.architecture,
            invocations_per_month=stats.invocations_per_month if stats else None,
            timeout_ms=fn.timeout_s * 1000,
            max_invocations=BENCHMARK_MAX_INVOCATIONS,
            max_cost_usd=BENCHMARK_MAX_COST_USD,
        )
        try:
            invoker = self.invoker_factory(fn)
            scoped = (
                invoker if isinstance(invoker, AbstractContextManager) else nullcontext(invoker)
            )
            with scoped as active:
                state = run(start(request), active)
        except AwsError as error:
            raise ServiceError(str(error)) from error
        found = tuning_result(state)
        lines = tuple(
            f"{item.memory_mb:>6} MB {item.architecture.value:<7} "
            + (f"{item.duration_ms:8.1f} ms" if item.duration_ms is not None else "       – ms")
            + (
                f"  ${item.cost_per_invocation_usd:.9f}"
                if item.cost_per_invocation_usd is not None
                else "  (failed)"
            )
            for item in found.results
        )
        follow_up = self._benchmark_recommendation(fn, found, user_id)
        best = found.best_on_current_architecture or found.best
        summary = found.confidence_statement
        if best is not None:
            summary = f"Best: {best.memory_mb} MB on {best.architecture.value}. {summary}"
        if len(architectures) > 1:
            summary += " " + _architecture_verdict(found, fn.architecture, architectures[1])
        return BenchmarkOutcome(
            function=fn.name,
            summary=summary,
            invocations=found.invocations,
            tuning_cost_usd=found.tuning_cost_usd,
            results=lines,
            recommendation=follow_up,
        )

    def _benchmark_recommendation(
        self, fn: FunctionSnapshot, found: Any, user_id: str
    ) -> Recommendation | None:
        """The measured memory on the current architecture, as an appliable recommendation."""
        best = found.best_on_current_architecture or found.best
        if (
            best is None
            or best.architecture is not fn.architecture
            or best.memory_mb == fn.memory_mb
        ):
            return None
        current = found.current
        before = current.monthly_cost_usd if current is not None else None
        if before is None:
            cost = monthly_cost(fn, at=self.clock())
            before = cost.total_usd if cost is not None else None
        after = best.monthly_cost_usd
        saving = before - after if before is not None and after is not None else None
        evidence = [
            Evidence(label="Invocations measured", value=found.invocations, source="benchmark"),
            Evidence(label="Benchmark cost", value=round(found.tuning_cost_usd, 6), unit="USD"),
        ]
        if best.duration_ms is not None:
            evidence.append(
                Evidence(
                    label=f"Duration at {best.memory_mb} MB",
                    value=round(best.duration_ms, 1),
                    unit="ms",
                )
            )
        if current is not None and current.duration_ms is not None:
            evidence.append(
                Evidence(
                    label=f"Duration at {fn.memory_mb} MB",
                    value=round(current.duration_ms, 1),
                    unit="ms",
                )
            )
        trade_off = None
        if saving is not None and saving < 0:
            from recommendations.recommendation import TradeOff

            trade_off = TradeOff.SPEED
        rec = Recommendation(
            function=fn.name,
            function_arn=fn.arn,
            region=fn.region,
            account_id=fn.account_id,
            rule_id=BENCHMARK_RULE_ID,
            category=Category.MEMORY,
            severity=Severity.MEDIUM,
            title=f"Set memory to {best.memory_mb} MB (measured)",
            rationale=found.confidence_statement,
            evidence=tuple(evidence),
            confidence=found.confidence,
            change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=best.memory_mb),
            monthly_cost_before_usd=before,
            monthly_cost_after_usd=after,
            monthly_savings_usd=saving,
            trade_off=trade_off,
        )
        self.store.put_recommendation(rec, fn, requested_by=user_id)
        return rec


def _architecture_verdict(found: Any, current: Architecture, other: Architecture) -> str:
    """Whether the other architecture measured cheaper, in one sentence."""
    mine, theirs = found.best_on_current_architecture, found.best
    if theirs is None or theirs.architecture is not other:
        return f"{other.value} was measured too and is not cheaper."
    if mine is None or mine.cost_per_invocation_usd is None:
        return f"Only {other.value} ran: {theirs.memory_mb} MB is its best."
    if theirs.cost_per_invocation_usd is None:
        return f"{other.value} was measured too; its cost is unknown."
    saving = 1 - theirs.cost_per_invocation_usd / mine.cost_per_invocation_usd
    return (
        f"{other.value} at {theirs.memory_mb} MB costs {saving:.0%} less per invocation than "
        f"{current.value} at {mine.memory_mb} MB: apply the architecture change to get it."
    )


def build_services(
    environ: Mapping[str, str] | None = None,
    *,
    session: AwsSession | None = None,
    rules: Sequence[Rule] | None = None,
    invoker_factory: InvokerFactory | None = lambda_copy_invoker,
    scan_packages: bool = True,
    clock: Callable[[], datetime] = _utc_now,
) -> AwsServices:
    """The services for this container, from the environment (``TUNEBOT_TABLE`` & co.).

    Benchmarks use temporary copies of the real function by default; ``invoker_factory=None``
    turns them off (the button then says so)."""
    from aws.appliers.base import ApplyContext
    from aws.change_adapters import change_service

    env = os.environ if environ is None else environ
    aws = session or AwsSession()
    store = StateStore(env.get("TUNEBOT_TABLE", ""), aws.client("dynamodb"))

    def context_for_region(region: str) -> ApplyContext:
        # A fleet scan covers every region of TUNEBOT_ACCOUNTS: each change must go to the
        # Lambda of its function's region, not to this container's.
        regional = aws.for_region(region)
        return ApplyContext(
            lambda_client=regional.client("lambda"),
            sqs_client=regional.client("sqs"),
            logs_client=regional.client("logs"),
        )

    return AwsServices(
        aws,
        store,
        change_service(store, context_for_region=context_for_region),
        rules=rules,
        invoker_factory=invoker_factory,
        scan_packages=scan_packages,
        clock=clock,
        environ=env,
    )

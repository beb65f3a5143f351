"""Runs every rule over every function, resolves conflicts, ranks, and sums up a fleet."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from pydantic import Field

from recommendations.plan import FunctionPlan, compose_plan
from recommendations.recommendation import Confidence, Recommendation, Risk, Severity
from recommendations.rules import default_rules
from recommendations.rules.base import Outcome, Rule, RuleContext, RuleResult
from recommendations.snapshot import FleetSnapshot, Frozen, FunctionSnapshot

logger = logging.getLogger(__name__)


class FunctionReport(Frozen):
    function: str
    function_arn: str
    region: str
    account_id: str
    results: tuple[RuleResult, ...]
    # Conflicts resolved (one change per setting), ranked best first, each priced by its
    # marginal saving in that order (see ``plan``).
    recommendations: tuple[Recommendation, ...]
    plan: FunctionPlan

    @property
    def monthly_savings_usd(self) -> float:
        """The plan's expected saving (negative when the plan buys speed or safety)."""
        return self.plan.savings_usd or 0.0

    def outcome_of(self, rule_id: str) -> Outcome | None:
        for result in self.results:
            if result.rule_id == rule_id:
                return result.outcome
        return None


class FleetReport(Frozen):
    functions: tuple[FunctionReport, ...]
    recommendations: tuple[Recommendation, ...]
    errors: dict[str, str] = Field(default_factory=dict)

    @property
    def plans(self) -> tuple[FunctionPlan, ...]:
        return tuple(report.plan for report in self.functions)

    @property
    def total_monthly_savings_usd(self) -> float:
        """Σ of the functions' plans, to the cent."""
        return round(sum(report.monthly_savings_usd for report in self.functions), 2)


# Enum ranks as plain dicts: ranking runs for every recommendation of a fleet.
_SEVERITY_RANK = {severity: severity.rank for severity in Severity}
_CONFIDENCE_RANK = {confidence: confidence.rank for confidence in Confidence}
_RISK_RANK = {risk: risk.rank for risk in Risk}
_URGENT = _SEVERITY_RANK[Severity.HIGH]


def rank_key(rec: Recommendation) -> tuple[int, float, int, int]:
    """Urgent problems (high/critical) first, then by monthly saving, then lower risk."""
    urgent = 1 if _SEVERITY_RANK[rec.severity] >= _URGENT else 0
    return (
        -urgent,
        -(rec.monthly_savings_usd or 0.0),
        _RISK_RANK[rec.risk],
        -_CONFIDENCE_RANK[rec.confidence],
    )


def _preference(rec: Recommendation) -> tuple[int, int, float]:
    """Among recommendations that change the same setting, which one stands."""
    return (
        _SEVERITY_RANK[rec.severity],
        _CONFIDENCE_RANK[rec.confidence],
        rec.monthly_savings_usd or 0.0,
    )


def resolve_conflicts(recommendations: Iterable[Recommendation]) -> list[Recommendation]:
    """Keep one change per setting of a function; advice without a change always stays."""
    chosen: dict[tuple[str, str], Recommendation] = {}
    advice: list[Recommendation] = []
    for rec in recommendations:
        if rec.change is None:
            advice.append(rec)
            continue
        key = (rec.function_arn, rec.change.setting)
        current = chosen.get(key)
        if current is None or _preference(rec) > _preference(current):
            if current is not None:
                logger.debug("%s overrides %s on %s", rec.rule_id, current.rule_id, key)
            chosen[key] = rec
    return [*chosen.values(), *advice]


def evaluate_rule(rule: Rule, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
    """One rule over one function; a failing rule is UNKNOWN for itself and nothing else."""
    try:
        return rule.evaluate(fn, context)
    except Exception as error:  # a bug in one rule must not hide the others' findings
        # One line by default; the traceback when debugging (tunebot -v).
        logger.warning(
            "rule %s failed on %s: %s: %s",
            rule.rule_id,
            fn.name,
            type(error).__name__,
            error,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )
        return RuleResult(
            rule_id=rule.rule_id,
            outcome=Outcome.UNKNOWN,
            reason=f"the rule failed: {type(error).__name__}",
        )


def analyze_function(
    fn: FunctionSnapshot, *, now: datetime, rules: Sequence[Rule] | None = None
) -> FunctionReport:
    return _analyze(fn, RuleContext(now=now), rules or default_rules())


def _analyze(fn: FunctionSnapshot, context: RuleContext, rules: Sequence[Rule]) -> FunctionReport:
    results = tuple(evaluate_rule(rule, fn, context) for rule in rules)
    found = [rec for result in results for rec in result.recommendations]
    ranked = sorted(resolve_conflicts(found), key=rank_key)
    plan, priced = compose_plan(fn, ranked, now=context.now)
    # Built from already-validated parts: re-validating every recommendation again for each
    # report would dominate the analysis time.
    return FunctionReport.model_construct(
        function=fn.name,
        function_arn=fn.arn,
        region=fn.region,
        account_id=fn.account_id,
        results=results,
        recommendations=priced,
        plan=plan,
    )


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a fleet is analysed.

    Analysis allocates many small, acyclic objects that all stay alive until the report is
    returned; the collector would rescan them again and again, which makes a 10,000-function
    fleet several times slower per function than a small one. Reference counting still frees
    everything as usual, and the collector's previous state is restored.

    On the way out the survivors (the report) are handed to the oldest generation as they
    are: ``freeze`` then ``unfreeze`` only splices the collector's lists. Re-enabling alone
    would make the first young collection walk every one of them at once, about a sixth of
    the analysis time of a dense fleet. They are still checked by the next full collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def analyze_fleet(
    fleet: FleetSnapshot, *, rules: Sequence[Rule] | None = None, now: datetime | None = None
) -> FleetReport:
    active_rules = rules or default_rules()
    context = RuleContext(now=now or fleet.collected_at)
    with _cycle_collector_paused():
        reports = tuple(_analyze(fn, context, active_rules) for fn in fleet.functions)
        ranked = sorted((rec for report in reports for rec in report.recommendations), key=rank_key)
        return FleetReport.model_construct(
            functions=reports, recommendations=tuple(ranked), errors=dict(fleet.errors)
        )

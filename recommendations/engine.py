"""Runs every rule over every function, resolves conflicts, ranks, and sums up a fleet."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import Field

from recommendations.recommendation import Recommendation, Severity
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
    # Conflicts resolved (one change per setting), ranked best first.
    recommendations: tuple[Recommendation, ...]

    @property
    def monthly_savings_usd(self) -> float:
        return sum(max(0.0, rec.monthly_savings_usd or 0.0) for rec in self.recommendations)

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
    def total_monthly_savings_usd(self) -> float:
        return sum(max(0.0, rec.monthly_savings_usd or 0.0) for rec in self.recommendations)


def rank_key(rec: Recommendation) -> tuple[int, float, int, int]:
    """Urgent problems (high/critical) first, then by monthly saving, then lower risk."""
    urgent = 1 if rec.severity.rank >= Severity.HIGH.rank else 0
    return (-urgent, -(rec.monthly_savings_usd or 0.0), rec.risk.rank, -rec.confidence.rank)


def _preference(rec: Recommendation) -> tuple[int, int, float]:
    """Among recommendations that change the same setting, which one stands."""
    return (rec.severity.rank, rec.confidence.rank, rec.monthly_savings_usd or 0.0)


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
        logger.exception("rule %s failed on %s", rule.rule_id, fn.name)
        return RuleResult(
            rule_id=rule.rule_id,
            outcome=Outcome.UNKNOWN,
            reason=f"the rule failed: {type(error).__name__}",
        )


def analyze_function(
    fn: FunctionSnapshot, *, now: datetime, rules: Sequence[Rule] | None = None
) -> FunctionReport:
    context = RuleContext(now=now)
    results = tuple(evaluate_rule(rule, fn, context) for rule in (rules or default_rules()))
    found = [rec for result in results for rec in result.recommendations]
    return FunctionReport(
        function=fn.name,
        function_arn=fn.arn,
        region=fn.region,
        account_id=fn.account_id,
        results=results,
        recommendations=tuple(sorted(resolve_conflicts(found), key=rank_key)),
    )


def analyze_fleet(
    fleet: FleetSnapshot, *, rules: Sequence[Rule] | None = None, now: datetime | None = None
) -> FleetReport:
    active_rules = rules or default_rules()
    when = now or fleet.collected_at
    reports = tuple(analyze_function(fn, now=when, rules=active_rules) for fn in fleet.functions)
    ranked = sorted((rec for report in reports for rec in report.recommendations), key=rank_key)
    return FleetReport(functions=reports, recommendations=tuple(ranked), errors=dict(fleet.errors))

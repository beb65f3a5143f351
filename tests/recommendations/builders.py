"""Small builders for rule tests: a function with sensible defaults, overridden per test.

Statistics cover one month exactly (``window_days=DAYS_PER_MONTH``), so ``invocations`` is
also the monthly figure and expected costs can be worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from recommendations.recommendation import Recommendation
from recommendations.rules.base import Outcome, Rule, RuleContext, RuleResult
from recommendations.snapshot import DAYS_PER_MONTH, FunctionSnapshot, FunctionStats

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
X86_GB_S = 0.0000166667
ARM_GB_S = 0.0000133334
REQUEST = 0.0000002


def stats(**fields: Any) -> FunctionStats:
    return FunctionStats(window_days=DAYS_PER_MONTH, **fields)


def function(
    name: str = "orders", stats_: FunctionStats | None = None, **fields: Any
) -> FunctionSnapshot:
    base: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "runtime": "python3.12",
        "memory_mb": 1024,
        "timeout_s": 30,
    }
    base.update(fields)
    return FunctionSnapshot(stats=stats_, **base)


def run(rule: Rule, fn: FunctionSnapshot, now: datetime = NOW) -> RuleResult:
    return rule.evaluate(fn, RuleContext(now=now))


def single(result: RuleResult) -> Recommendation:
    assert result.outcome is Outcome.RECOMMEND, result.reason
    assert len(result.recommendations) == 1
    return result.recommendations[0]


def evidence_of(rec: Recommendation) -> dict[str, object]:
    return {item.label: item.value for item in rec.evidence}

"""The shape every rule has. One rule is one class; ``docs/rules.md`` is generated from these."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import ClassVar

from pydantic import Field

from recommendations.recommendation import Category, Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot

# Every rule docstring has exactly these headings, in this order, each on its own line
# followed by a paragraph. The catalogue generator and a test rely on it.
DOCSTRING_HEADINGS = ("What it checks:", "Why it matters:", "What to do:")


class Outcome(StrEnum):
    RECOMMEND = "recommend"
    PASS = "pass"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


class RuleContext(Frozen):
    """What a rule may know besides the function: the time of the analysis (never the clock)."""

    now: datetime


class RuleResult(Frozen):
    rule_id: str
    outcome: Outcome
    recommendations: tuple[Recommendation, ...] = ()
    reason: str = Field(default="", description="Why pass/unknown/not applicable, in words")


class Rule(ABC):
    """A check over one function.

    Subclasses set the class attributes and write a docstring with ``DOCSTRING_HEADINGS``.
    ``evaluate`` returns UNKNOWN (with the reason) when the data it needs is missing; it never
    guesses a zero.
    """

    rule_id: ClassVar[str]  # stable, never reused, e.g. "MEM-001"
    name: ClassVar[str]
    category: ClassVar[Category]
    # Snapshot fields the rule reads, dotted (e.g. "stats.max_memory_used_mb").
    needs: ClassVar[tuple[str, ...]]
    # IAM actions its change needs when applied (empty for advice-only rules).
    iam_actions: ClassVar[tuple[str, ...]] = ()
    # The Change class it proposes (None for advice-only rules); iam_actions are that class's.
    proposes: ClassVar[type[Frozen] | None] = None

    @abstractmethod
    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult: ...

    def passed(self, reason: str) -> RuleResult:
        return _plain_result(self.rule_id, Outcome.PASS, reason)

    def unknown(self, reason: str) -> RuleResult:
        return _plain_result(self.rule_id, Outcome.UNKNOWN, reason)

    def not_applicable(self, reason: str) -> RuleResult:
        return _plain_result(self.rule_id, Outcome.NOT_APPLICABLE, reason)

    # ``model_construct``: the recommendations were validated when built, and validating the
    # result would run their validators again (see benchmarks/engine.py).
    def recommend(self, *recommendations: Recommendation) -> RuleResult:
        if not all(isinstance(rec, Recommendation) for rec in recommendations):
            raise TypeError("recommend() takes Recommendation objects")
        return RuleResult.model_construct(
            rule_id=self.rule_id,
            outcome=Outcome.RECOMMEND,
            recommendations=tuple(recommendations),
            reason="",
        )


@lru_cache(maxsize=4096)
def _plain_result(rule_id: str, outcome: Outcome, reason: str) -> RuleResult:
    # Results without recommendations are frozen values and most reasons repeat from one
    # function to the next ("no SQS trigger"), so one instance serves them all.
    return RuleResult(rule_id=rule_id, outcome=outcome, reason=reason)

"""The engine: failing rules are contained, conflicts resolved, results ranked."""

from __future__ import annotations

import logging
from typing import ClassVar

import pytest

from recommendations.changes import MemoryChange
from recommendations.engine import analyze_fleet, analyze_function, rank_key
from recommendations.recommendation import Category, Confidence, Recommendation, Severity
from recommendations.rules.base import Outcome, Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build
from recommendations.snapshot import FleetSnapshot, FunctionSnapshot
from tests.recommendations.builders import NOW, function


class Broken(Rule):
    rule_id = "TEST-001"
    name = "broken"
    category = Category.MEMORY
    needs = ("memory_mb",)

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        return self.passed(str(1 / 0))


class ProposeMemory(Rule):
    """Proposes a fixed memory size with a fixed severity and saving."""

    category = Category.MEMORY
    needs = ("memory_mb",)
    after: ClassVar[int]
    severity: ClassVar[Severity]
    saving: ClassVar[float | None]

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        return self.recommend(
            build(
                self,
                fn,
                severity=self.severity,
                title=f"{self.after} MB",
                rationale="test",
                confidence=Confidence.MEDIUM,
                change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=self.after),
                savings=self.saving,
            )
        )


class SmallerMemory(ProposeMemory):
    rule_id, name, after, severity, saving = ("TEST-002", "smaller", 512, Severity.LOW, 9.0)


class BiggerMemory(ProposeMemory):
    rule_id, name, after, severity, saving = ("TEST-003", "bigger", 2048, Severity.HIGH, None)


class Advice(Rule):
    rule_id = "TEST-004"
    name = "advice"
    category = Category.RUNTIME
    needs = ("runtime",)

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM,
                title="advice",
                rationale="test",
                confidence=Confidence.HIGH,
                savings=1.0,
            )
        )


def test_a_failing_rule_is_unknown_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="recommendations.engine"):
        report = analyze_function(function(), now=NOW, rules=(Broken(), SmallerMemory()))
    assert caplog.messages == [
        "rule TEST-001 failed on orders: ZeroDivisionError: division by zero"
    ]
    assert not caplog.records[0].exc_info  # no traceback unless debugging
    assert report.outcome_of("TEST-001") is Outcome.UNKNOWN
    assert report.results[0].reason == "the rule failed: ZeroDivisionError"
    assert [rec.rule_id for rec in report.recommendations] == ["TEST-002"]


def test_conflicting_changes_to_one_setting_keep_one() -> None:
    report = analyze_function(
        function(), now=NOW, rules=(SmallerMemory(), BiggerMemory(), Advice())
    )
    # Both memory rules fire; the more severe one stands; advice is never dropped.
    assert report.outcome_of("TEST-002") is Outcome.RECOMMEND
    assert [rec.rule_id for rec in report.recommendations] == ["TEST-003", "TEST-004"]


def test_ranking_puts_urgent_first_then_savings() -> None:
    fn = function()
    recs = [
        build(
            Advice(), fn, severity=s, title=t, rationale="r", confidence=Confidence.LOW, savings=v
        )
        for s, t, v in (
            (Severity.LOW, "small", 1.0),
            (Severity.MEDIUM, "big", 50.0),
            (Severity.CRITICAL, "urgent", None),
        )
    ]
    assert [rec.title for rec in sorted(recs, key=rank_key)] == ["urgent", "big", "small"]


def test_fleet_analysis_uses_the_collection_time_and_keeps_errors() -> None:
    fleet = FleetSnapshot(
        collected_at=NOW,
        window_start=NOW.replace(day=1),
        window_end=NOW,
        functions=(function("a", runtime="python3.9"), function("b", runtime="python3.13")),
        errors={"c": "access denied"},
    )
    report = analyze_fleet(fleet)
    assert [rec.function for rec in report.recommendations if rec.rule_id == "RT-001"] == ["a"]
    assert report.errors == {"c": "access denied"}
    assert [fn.function for fn in report.functions] == ["a", "b"]


def test_recommendation_ids_are_stable() -> None:
    first = analyze_function(function(), now=NOW, rules=(SmallerMemory(),)).recommendations
    again = analyze_function(function(), now=NOW, rules=(SmallerMemory(),)).recommendations
    assert first[0].id == again[0].id
    assert first[0].id.startswith("rec-")
    assert isinstance(first[0], Recommendation)


def test_recommendation_ids_tell_function_rule_and_change_apart() -> None:
    def rec(name: str, rule: type[ProposeMemory], after: int) -> Recommendation:
        fn = function(name)
        return build(
            rule(),
            fn,
            severity=Severity.LOW,
            title="t",
            rationale="r",
            confidence=Confidence.LOW,
            change=MemoryChange(function_name=name, before=fn.memory_mb, after=after),
        )

    base = rec("a", SmallerMemory, 512)
    assert rec("a", SmallerMemory, 512).id == base.id
    others = {rec("b", SmallerMemory, 512).id, rec("a", BiggerMemory, 512).id}
    others.add(rec("a", SmallerMemory, 640).id)
    assert len(others) == 3 and base.id not in others
    # A saved recommendation loads with the id derived from its content, whatever it claims.
    forged = Recommendation.model_validate({**base.model_dump(), "id": "rec-0000000000000000"})
    assert forged.id == base.id


@pytest.mark.parametrize("enabled", [True, False])
def test_analyze_fleet_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    import gc

    fleet = FleetSnapshot(
        collected_at=NOW, window_start=NOW.replace(day=1), window_end=NOW, functions=(function(),)
    )
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        analyze_fleet(fleet)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


class OverflowingSaving(Rule):
    rule_id = "TEST-004"
    name = "overflowing"
    category = Category.MEMORY
    needs = ("memory_mb",)

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        huge = 1e308 * 10  # arithmetic that overflows to infinity
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.LOW,
                title="t",
                rationale="r",
                confidence=Confidence.LOW,
                savings=huge - huge,  # NaN
            )
        )


def test_a_rule_whose_figures_are_not_finite_is_unknown_not_nan() -> None:
    report = analyze_function(function(), now=NOW, rules=(OverflowingSaving(), SmallerMemory()))
    assert report.outcome_of("TEST-004") is Outcome.UNKNOWN
    assert [rec.rule_id for rec in report.recommendations] == ["TEST-002"]

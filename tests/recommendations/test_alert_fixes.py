"""An alert card's fixes: those for the diagnosed cause first, never a change that can worsen
the alarm's own metric."""

from __future__ import annotations

from typing import Any

import pytest

from recommendations.alert_fixes import (
    ADDRESSED_BY,
    SETBACKS_BY_METRIC,
    Setback,
    fixes_for,
    setback_of,
    worsened_metric,
)
from recommendations.alerts import AlarmSignal, CauseKind, LikelyCause, diagnose_alarm
from recommendations.changes import (
    ArchitectureChange,
    MemoryChange,
    ProvisionedConcurrencyChange,
    ReservedConcurrencyChange,
    TimeoutChange,
)
from recommendations.diagnoses import DIAGNOSIS_CLASSES
from recommendations.recommendation import (
    Category,
    Confidence,
    Recommendation,
    Severity,
    TradeOff,
)
from recommendations.snapshot import Architecture, FunctionSnapshot, FunctionStats

NAME = "checkout-api"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}"


def rec(
    category: Category,
    change: Any = None,
    rule: str = "X-001",
    saving: float = 10.0,
    trade_off: TradeOff | None = None,
) -> Recommendation:
    return Recommendation(
        function=NAME,
        function_arn=ARN,
        region="us-east-1",
        account_id="123456789012",
        rule_id=rule,
        category=category,
        severity=Severity.MEDIUM,
        title=f"{rule} {category.value}",
        rationale="because",
        confidence=Confidence.MEDIUM,
        change=change,
        monthly_savings_usd=saving,
        trade_off=trade_off,
    )


def cause(kind: CauseKind) -> LikelyCause:
    return LikelyCause(kind=kind, summary=kind.value, confidence=Confidence.MEDIUM)


MEMORY_CUT = rec(
    Category.MEMORY, MemoryChange(function_name=NAME, before=1024, after=256), "MEM-001", 40.0
)
MEMORY_RAISE = rec(
    Category.MEMORY,
    MemoryChange(function_name=NAME, before=1024, after=1769),
    "MEM-002",
    -5.0,
    TradeOff.SPEED,
)
ARM64 = rec(
    Category.ARCHITECTURE,
    ArchitectureChange(function_name=NAME, before=Architecture.X86_64, after=Architecture.ARM64),
    "ARCH-001",
    20.0,
)
CAP = rec(
    Category.CONCURRENCY,
    ReservedConcurrencyChange(function_name=NAME, before=None, after=50),
    "CONC-009",
    3.0,
)
RAISE_RESERVATION = rec(
    Category.CONCURRENCY,
    ReservedConcurrencyChange(function_name=NAME, before=10, after=40),
    "CONC-001",
    0.0,
)
TRACING = rec(Category.TRACING, None, "TRC-001", 0.0)


def test_the_checkout_api_latency_alarm_does_not_lead_with_a_memory_cut() -> None:
    # Issue 12, reproduction 6: a p99 latency alarm on checkout-api led with "Reduce memory
    # from 1024 MB to 256 MB", ranked first by its saving.
    fixes, other = fixes_for(
        [cause(CauseKind.LONG_TAIL)], [MEMORY_CUT, ARM64, TRACING], ["Duration"]
    )
    assert fixes == (TRACING,)
    # arm64's speed for this code is unmeasured: a saving, not a latency fix.
    assert other == (MEMORY_CUT, ARM64)


@pytest.mark.parametrize("metric", ["Duration", "PostRuntimeExtensionsDuration", "init_duration"])
@pytest.mark.parametrize("kind", [CauseKind.UNDER_PROVISIONED, CauseKind.NEAR_TIMEOUT, None])
def test_a_latency_alarm_never_offers_a_memory_cut(metric: str, kind: CauseKind | None) -> None:
    causes = [cause(kind)] if kind is not None else []
    fixes, other = fixes_for(causes, [MEMORY_CUT, MEMORY_RAISE], [metric])
    assert MEMORY_CUT not in fixes and MEMORY_CUT in other
    assert worsened_metric(MEMORY_CUT, [metric]) == metric
    assert fixes[0] is MEMORY_RAISE


@pytest.mark.parametrize(
    "kind", [CauseKind.RESERVED_CONCURRENCY, CauseKind.ACCOUNT_CONCURRENCY, CauseKind.TRAFFIC_SPIKE]
)
def test_a_throttles_alarm_never_leads_with_a_concurrency_cap(kind: CauseKind) -> None:
    fixes, other = fixes_for([cause(kind)], [CAP, MEMORY_CUT, RAISE_RESERVATION], ["Throttles"])
    assert fixes == (RAISE_RESERVATION,)
    # A memory cut lengthens invocations, which hold concurrency longer: not a fix either.
    assert other == (CAP, MEMORY_CUT)
    assert worsened_metric(CAP, ["Throttles"]) == "Throttles"


def test_fixes_for_the_likelier_cause_come_first_each_group_in_rank_order() -> None:
    timeout = rec(Category.TIMEOUT, TimeoutChange(function_name=NAME, before=3, after=10), "T-1")
    cold = rec(Category.COLD_START, None, "COLD-001")
    package = rec(Category.PACKAGE, None, "PKG-001")
    ranked = [package, ARM64, timeout, cold, MEMORY_RAISE]
    causes = [cause(CauseKind.NEAR_TIMEOUT), cause(CauseKind.COLD_STARTS)]
    fixes, other = fixes_for(causes, ranked, ["Duration"])
    # Near the timeout: memory, timeout (in rank); cold starts: package, cold start (in rank).
    assert fixes == (timeout, MEMORY_RAISE, package, cold)
    assert other == (ARM64,)
    # On an Invocations alarm nothing is diagnosed: the metric's categories, in rank order.
    assert fixes_for([], ranked, ["Invocations"]) == (
        (ARM64, MEMORY_RAISE),
        (package, timeout, cold),
    )


def test_every_recommendation_lands_in_exactly_one_list() -> None:
    ranked = [MEMORY_CUT, ARM64, CAP, RAISE_RESERVATION, TRACING, MEMORY_RAISE]
    for metric in SETBACKS_BY_METRIC:
        for kind in CauseKind:
            fixes, other = fixes_for([cause(kind)], ranked, [metric])
            assert sorted(map(id, (*fixes, *other))) == sorted(map(id, ranked))
            assert all(worsened_metric(item, [metric]) is None for item in fixes)


def test_setbacks_are_told_by_the_change_direction() -> None:
    assert setback_of(MEMORY_CUT) is Setback.MEMORY_CUT
    assert setback_of(MEMORY_RAISE) is None
    assert setback_of(CAP) is Setback.CONCURRENCY_CAP
    assert setback_of(RAISE_RESERVATION) is None
    lower_provisioned = rec(
        Category.CONCURRENCY,
        ProvisionedConcurrencyChange(function_name=NAME, qualifier="live", before=10, after=2),
    )
    assert setback_of(lower_provisioned) is Setback.PROVISIONED_CUT
    shorter = rec(Category.TIMEOUT, TimeoutChange(function_name=NAME, before=30, after=5))
    assert setback_of(shorter) is Setback.TIMEOUT_CUT
    assert worsened_metric(shorter, ["Duration"]) is None
    assert worsened_metric(shorter, ["Duration", "Errors"]) == "Errors"
    assert setback_of(ARM64) is Setback.ARCHITECTURE_SWITCH
    assert worsened_metric(ARM64, ["Duration"]) == "Duration"
    assert worsened_metric(ARM64, ["Invocations"]) is None


def test_every_diagnosis_is_mapped_and_every_diagnosed_metric_knows_its_setbacks() -> None:
    assert set(ADDRESSED_BY) == set(CauseKind)
    for cls in DIAGNOSIS_CLASSES:
        assert all(metric in SETBACKS_BY_METRIC for metric in cls.metrics)


def test_diagnose_alarm_splits_by_the_same_rule() -> None:
    fn = FunctionSnapshot(
        name=NAME,
        arn=ARN,
        account_id="123456789012",
        region="us-east-1",
        memory_mb=1024,
        timeout_s=30,
        stats=FunctionStats(window_days=14, duration_p50_ms=80.0, duration_p99_ms=900.0),
    )
    signal = AlarmSignal(metric_names=("Duration",), statistic="p99", observed_value=900.0)
    diagnosis = diagnose_alarm(fn, signal, [MEMORY_CUT, ARM64, TRACING])
    assert [c.kind for c in diagnosis.causes] == [CauseKind.LONG_TAIL]
    assert diagnosis.metrics == ("Duration",)
    assert diagnosis.relevant == (TRACING,)
    assert diagnosis.others == (MEMORY_CUT, ARM64)
    assert diagnosis.fixes([MEMORY_CUT, TRACING]) == ((TRACING,), (MEMORY_CUT,))

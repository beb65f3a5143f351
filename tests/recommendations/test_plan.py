"""One plan per function: recommendations priced together, marginal savings that add up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommendations.engine import FleetReport, FunctionReport, analyze_fleet, analyze_function
from recommendations.plan import compose_plan
from recommendations.pricing import monthly_cost
from recommendations.snapshot import Architecture, FleetSnapshot, FunctionSnapshot, InvokeSource
from tests.recommendations.builders import NOW, function, stats
from tests.recommendations.test_properties import functions as any_function

CENT = 0.005


def _checkout() -> FunctionSnapshot:
    """Far above one vCPU, using a fifth of its memory, on x86_64 with arm64-ready code: MEM-001 and
    ARCH-001 both fire, each priced alone from the same starting cost."""
    return function(
        "checkout",
        memory_mb=8192,
        timeout_s=30,
        native_binaries=(),
        invoked_by=(InvokeSource.API_GATEWAY,),
        stats_=stats(
            invocations=12_000_000,
            duration_avg_ms=400.0,
            duration_p50_ms=340.0,
            duration_p90_ms=790.0,
            duration_p99_ms=1880.0,
            max_memory_used_mb=1500,
            log_sample_invocations=50_000,
            errors=0,
            throttles=0,
        ),
    )


def _by_rule(report: FunctionReport) -> dict[str, object]:
    return {rec.rule_id: rec for rec in report.recommendations}


def test_memory_and_arm64_are_priced_together_not_summed() -> None:
    fn = _checkout()
    report = analyze_function(fn, now=NOW)
    memory, arm = _by_rule(report)["MEM-001"], _by_rule(report)["ARCH-001"]
    assert memory.change is not None and arm.change is not None  # type: ignore[attr-defined]
    target = memory.change.after  # type: ignore[attr-defined]
    assert target >= 1769
    # Above one vCPU a memory cut keeps the duration (MEM-001 is certain there) and arm64's
    # expected case is the same speed: the plan's "after" is exactly both applied at once.
    both = monthly_cost(fn, memory_mb=target, architecture=Architecture.ARM64, at=NOW)
    now = monthly_cost(fn, at=NOW)
    assert both is not None and now is not None
    plan = report.plan
    assert plan.cost_now_usd == round(now.total_usd, 2)
    assert plan.cost_after_usd == pytest.approx(both.total_usd, abs=0.011)
    # Priced alone, each would have started from today's cost; summed they overstate.
    arm_alone = now.total_usd - monthly_cost(fn, architecture=Architecture.ARM64, at=NOW).total_usd  # type: ignore[union-attr]
    assert arm.monthly_savings_usd < arm_alone - 1.0  # type: ignore[attr-defined]
    assert plan.items[:2] == (memory.id, arm.id)  # type: ignore[attr-defined]
    assert memory.monthly_cost_after_usd == arm.monthly_cost_before_usd  # type: ignore[attr-defined]


def test_one_item_keeps_its_rules_own_figures() -> None:
    fn = _checkout()
    alone = [
        rec for rec in analyze_function(fn, now=NOW).recommendations if rec.rule_id == "ARCH-001"
    ]
    # The same recommendation as the rule priced it, alone in a plan: nothing to compose.
    from recommendations.rules.architecture import Arm64Migration
    from recommendations.rules.base import RuleContext

    raw = Arm64Migration().evaluate(fn, RuleContext(now=NOW)).recommendations[0]
    plan, (priced,) = compose_plan(fn, [raw], now=NOW)
    assert priced.monthly_savings_usd == pytest.approx(raw.monthly_savings_usd, abs=0.011)
    assert priced.monthly_savings_low_usd == pytest.approx(raw.monthly_savings_low_usd, abs=0.011)
    assert plan.savings_usd == priced.monthly_savings_usd
    assert alone and alone[0].id == raw.id


def test_changes_outside_compute_save_what_their_rule_says() -> None:
    fn = _checkout()
    report = analyze_function(fn, now=NOW)
    for rec in report.recommendations:
        if rec.change is not None and rec.change.kind == "timeout":
            assert rec.monthly_savings_usd == 0.0


def test_a_function_without_traffic_has_an_unpriced_plan() -> None:
    fn = function("quiet", memory_mb=3008)
    report = analyze_function(fn, now=NOW)
    plan = report.plan
    assert (plan.cost_now_usd, plan.cost_after_usd, plan.savings_usd, plan.items) == (
        None,
        None,
        None,
        (),
    )
    assert report.monthly_savings_usd == 0.0


def _check_identities(report: FleetReport) -> None:
    for fn_report in report.functions:
        plan = fn_report.plan
        by_id = {rec.id: rec for rec in fn_report.recommendations}
        assert [rec_id for rec_id in plan.items if rec_id in by_id] == list(plan.items)
        if plan.cost_now_usd is None:
            assert plan.items == () and plan.savings_usd is None
            continue
        assert plan.cost_after_usd is not None and plan.savings_usd is not None
        items = [by_id[rec_id] for rec_id in plan.items]
        assert plan.cost_now_usd - plan.cost_after_usd == pytest.approx(plan.savings_usd, abs=CENT)
        total = sum(rec.monthly_savings_usd or 0.0 for rec in items)
        assert total == pytest.approx(plan.savings_usd, abs=CENT)
        lows = sum(rec.monthly_savings_low_usd or 0.0 for rec in items)
        highs = sum(rec.monthly_savings_high_usd or 0.0 for rec in items)
        assert lows == pytest.approx(plan.savings_low_usd, abs=CENT)
        assert highs == pytest.approx(plan.savings_high_usd, abs=CENT)
        assert plan.savings_low_usd <= plan.savings_usd + CENT  # type: ignore[operator]
        assert plan.savings_usd <= plan.savings_high_usd + CENT  # type: ignore[operator]
        running = plan.cost_now_usd
        for rec in items:
            low, mid, high = (
                rec.monthly_savings_low_usd,
                rec.monthly_savings_usd,
                rec.monthly_savings_high_usd,
            )
            assert low is not None and mid is not None and high is not None
            assert low <= mid <= high
            assert rec.monthly_cost_before_usd == pytest.approx(running, abs=CENT)
            running -= mid
            assert rec.monthly_cost_after_usd == pytest.approx(running, abs=CENT)
    assert report.total_monthly_savings_usd == pytest.approx(
        sum(plan.savings_usd or 0.0 for plan in report.plans), abs=CENT
    )


memory = st.integers(min_value=128, max_value=10240)


@st.composite
def priced_functions(draw: st.DrawFn) -> FunctionSnapshot:
    """Functions with known traffic and duration, so every rule can price what it finds."""
    size = draw(memory)
    fields = {
        "invocations": draw(st.integers(min_value=1_000, max_value=10**9)),
        "duration_avg_ms": draw(st.floats(min_value=1, max_value=800_000)),
        "duration_p50_ms": draw(st.floats(min_value=1, max_value=800_000)),
        "duration_p90_ms": draw(st.floats(min_value=1, max_value=800_000)),
        "max_memory_used_mb": draw(st.integers(min_value=30, max_value=size)),
        "log_sample_invocations": draw(st.integers(min_value=0, max_value=100_000)),
        "out_of_memory": draw(st.integers(min_value=0, max_value=5)),
        "cold_starts": draw(st.integers(min_value=0, max_value=1_000)),
        "init_duration_avg_ms": draw(st.floats(min_value=0, max_value=10_000)),
        "provisioned_concurrency_utilization_max": draw(st.floats(min_value=0, max_value=1)),
        "provisioned_concurrency_utilization_avg": draw(st.floats(min_value=0, max_value=1)),
    }
    return function(
        "fn",
        runtime=draw(st.sampled_from(["python3.12", "nodejs22.x", "java21", "go1.x"])),
        memory_mb=size,
        timeout_s=draw(st.integers(min_value=1, max_value=900)),
        architecture=draw(st.sampled_from(list(Architecture))),
        native_binaries=draw(st.sampled_from([None, ()])),
        provisioned_concurrency=draw(st.sampled_from([None, 0, 5, 50])),
        provisioned_concurrency_qualifier="live",
        invoked_by=(InvokeSource.API_GATEWAY,),
        ephemeral_storage_mb=draw(st.sampled_from([512, 2048])),
        stats_=stats(**fields),
    )


def _fleet(fns: list[FunctionSnapshot]) -> FleetSnapshot:
    return FleetSnapshot(
        collected_at=NOW,
        window_start=NOW - timedelta(days=30),
        window_end=NOW,
        functions=tuple(fn.model_copy(update={"name": f"fn-{i}"}) for i, fn in enumerate(fns)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(priced_functions(), min_size=1, max_size=4))
def test_plans_add_up_on_priced_fleets(fns: list[FunctionSnapshot]) -> None:
    _check_identities(analyze_fleet(_fleet(fns)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_function(), max_size=4))
def test_plans_add_up_on_any_fleet(fns: list[FunctionSnapshot]) -> None:
    _check_identities(analyze_fleet(_fleet(fns)))

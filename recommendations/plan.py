"""One plan per function: its recommendations priced together, each by its marginal saving.

Rules price each change alone, from the function as it is. Applied together, changes interact:
arm64's 20 % cheaper GB-second is worth less once memory is cut, and a memory cut is worth
less on arm64. :func:`compose_plan` takes a function's recommendations in their rank order
and walks one cost model (``pricing.monthly_cost``) through them: each change that moves the
Lambda bill's compute (memory, architecture, provisioned concurrency) is applied to the state
left by the ones before it, with the duration effect its rule priced (recovered from the
rule's own figures, so a change alone is priced exactly as its rule priced it); every other
change saves what its rule says, independently. Each item then carries its *marginal* saving,
so the items add up to the plan's saving to the cent, and plans add up to the fleet's.

Ranges compose the same way: the cheap end of every item together, and the dear end together.
Only changes are planned: advice (nothing to apply) and an item whose expected saving is unknown
(a rule that says "benchmark first" with only a range) keep their own figures. Changes that save
on another bill than Lambda's (CloudWatch Logs, X-Ray) are planned apart, in
``savings_elsewhere_usd``: the plan's "now" and "after" are the Lambda bill.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from recommendations.pricing import monthly_cost
from recommendations.recommendation import Category, Recommendation
from recommendations.snapshot import Architecture, Frozen, FunctionSnapshot

# Change kinds whose effect the plan's cost model composes; the rest save independently.
COMPOSED_KINDS = frozenset({"memory", "architecture", "provisioned_concurrency"})
# Categories whose savings are on another bill than the function's Lambda bill.
OTHER_BILLS = frozenset({Category.LOGGING, Category.TRACING})


class FunctionPlan(Frozen):
    """The jointly priced plan of one function. Money in USD a month, rounded to the cent.

    ``cost_now_usd`` is the cost measured from the function's current configuration and
    statistics; ``cost_after_usd`` is what is *expected* after every item. Both are None when
    traffic or duration is unknown (then nothing is priced).
    """

    function: str
    function_arn: str
    cost_now_usd: float | None = None
    cost_after_usd: float | None = None
    savings_usd: float | None = None
    savings_low_usd: float | None = None
    savings_high_usd: float | None = None
    # Recommendation ids in plan order (changes with a known saving on the Lambda bill).
    items: tuple[str, ...] = ()
    # Changes that save on other bills (CloudWatch Logs, X-Ray): their ids and saving.
    items_elsewhere: tuple[str, ...] = ()
    savings_elsewhere_usd: float | None = None


class _State(Frozen):
    memory_mb: int
    architecture: Architecture
    provisioned: int
    # Billed duration in the expected world, and in the worlds of the low and high savings.
    duration_ms: tuple[float, float, float]


def _cents(value: float) -> float:
    return round(value, 2) + 0.0  # + 0.0: no '-0.0' for a rounded tiny negative


def compose_plan(
    fn: FunctionSnapshot, ranked: Sequence[Recommendation], *, now: datetime
) -> tuple[FunctionPlan, tuple[Recommendation, ...]]:
    """The plan for ``fn`` and its recommendations re-priced in plan order (marginal savings).

    ``ranked`` are the engine's recommendations for ``fn``, conflicts resolved, best first;
    the returned ones keep that order and their ids.
    """
    current = monthly_cost(fn, at=now)
    if current is None:
        return FunctionPlan(function=fn.name, function_arn=fn.arn), tuple(ranked)
    d0 = current.billed_duration_ms
    state = _State(
        memory_mb=fn.memory_mb,
        architecture=fn.architecture,
        provisioned=fn.provisioned_concurrency or 0,
        duration_ms=(d0, d0, d0),
    )
    costs = _costs(fn, state, now)
    cost_now = _cents(current.total_usd)
    repriced: list[Recommendation] = []
    items: list[str] = []
    total = low_total = high_total = 0.0
    elsewhere: list[str] = []
    elsewhere_total = 0.0
    for rec in ranked:
        if rec.monthly_savings_usd is None or rec.change is None:
            repriced.append(rec)
            continue
        if rec.category in OTHER_BILLS:
            elsewhere.append(rec.id)
            elsewhere_total += _cents(rec.monthly_savings_usd)
            repriced.append(rec)
            continue
        after_state = _composed(fn, rec, state, now) if d0 > 0 else None
        if after_state is not None:
            after_costs = _costs(fn, after_state, now)
            worlds = tuple(before - after for before, after in zip(costs, after_costs, strict=True))
            expected, low, high = worlds[0], min(worlds), max(worlds)
            state, costs = after_state, after_costs
        else:
            expected = rec.monthly_savings_usd
            low = _first(rec.monthly_savings_low_usd, expected)
            high = _first(rec.monthly_savings_high_usd, expected)
        expected, low, high = _cents(expected), _cents(low), _cents(high)
        low, high = min(low, expected), max(high, expected)
        running_before = _cents(cost_now - total)
        total, low_total, high_total = total + expected, low_total + low, high_total + high
        items.append(rec.id)
        repriced.append(
            rec.model_copy(
                update={
                    "monthly_savings_usd": expected,
                    "monthly_savings_low_usd": low,
                    "monthly_savings_high_usd": high,
                    "monthly_cost_before_usd": running_before,
                    "monthly_cost_after_usd": _cents(running_before - expected),
                }
            )
        )
    savings = _cents(total)
    plan = FunctionPlan(
        function=fn.name,
        function_arn=fn.arn,
        cost_now_usd=cost_now,
        cost_after_usd=_cents(cost_now - savings),
        savings_usd=savings,
        savings_low_usd=_cents(low_total),
        savings_high_usd=_cents(high_total),
        items=tuple(items),
        items_elsewhere=tuple(elsewhere),
        savings_elsewhere_usd=_cents(elsewhere_total) if elsewhere else None,
    )
    return plan, tuple(repriced)


def _first(*values: float | None) -> float:
    for value in values:
        if value is not None:
            return value
    return 0.0


def _costs(fn: FunctionSnapshot, state: _State, now: datetime) -> tuple[float, float, float]:
    return (
        _cost(fn, state, state.duration_ms[0], now),
        _cost(fn, state, state.duration_ms[1], now),
        _cost(fn, state, state.duration_ms[2], now),
    )


def _cost(fn: FunctionSnapshot, state: _State, duration_ms: float, now: datetime) -> float:
    found = monthly_cost(
        fn,
        memory_mb=state.memory_mb,
        architecture=state.architecture,
        billed_duration_ms=duration_ms,
        provisioned=state.provisioned,
        at=now,
    )
    assert found is not None  # traffic is known: the plan was priced from it
    return found.total_usd


def _moved(state: _State, rec: Recommendation) -> _State | None:
    """The configuration after ``rec``'s change, or None when the plan does not compose it."""
    change = rec.change
    if change is None or change.kind not in COMPOSED_KINDS:
        return None
    if change.kind == "memory":
        return state.model_copy(update={"memory_mb": change.after})
    if change.kind == "architecture":
        return state.model_copy(update={"architecture": change.after})
    return state.model_copy(update={"provisioned": change.after})


def _composed(
    fn: FunctionSnapshot, rec: Recommendation, state: _State, now: datetime
) -> _State | None:
    """The state after ``rec``, its duration effect recovered from the rule's own pricing.

    The rule priced the change alone, from the function as it is: after = before − saving.
    The monthly cost is linear in the billed duration (compute, storage and the provisioned
    discount scale with it; requests and provisioned environments do not), so the duration
    factor that reproduces each of the rule's figures (expected, low, high) is exact.
    """
    alone_before = _State(
        memory_mb=fn.memory_mb,
        architecture=fn.architecture,
        provisioned=fn.provisioned_concurrency or 0,
        duration_ms=state.duration_ms,
    )
    alone_after = _moved(alone_before, rec)
    moved = _moved(state, rec)
    if alone_after is None or moved is None:
        return None
    d0 = monthly_cost(fn, at=now)
    assert d0 is not None
    duration0 = d0.billed_duration_ms
    base = d0.total_usd
    slope_point = _cost(fn, alone_after, 2 * duration0, now)
    at_d0 = _cost(fn, alone_after, duration0, now)
    slope = (slope_point - at_d0) / duration0
    fixed = at_d0 - slope * duration0
    expected = rec.monthly_savings_usd
    assert expected is not None
    savings = (
        expected,
        _first(rec.monthly_savings_low_usd, expected),
        _first(rec.monthly_savings_high_usd, expected),
    )
    factors = []
    for saving in savings:
        target = base - saving
        factor = (target - fixed) / (slope * duration0) if slope > 0 else 1.0
        factors.append(max(factor, 1e-6))
    return moved.model_copy(
        update={
            "duration_ms": tuple(
                duration * factor
                for duration, factor in zip(state.duration_ms, factors, strict=True)
            )
        }
    )

"""Turn a finished (or interrupted) state into a ``TuningResult``."""

from __future__ import annotations

import math

from recommendations.pricing import RegionPrices, prices_for
from recommendations.recommendation import Confidence
from recommendations.snapshot import Architecture
from recommendations.tuning.accounting import gb_seconds, spent_usd
from recommendations.tuning.adaptive import (
    BOOTSTRAPS,
    NEAR,
    SETTLE_QUANTILE,
    WARM_PER_CONFIG,
    Analysis,
    ArchitectureFit,
    analyse,
)
from recommendations.tuning.failures import failure_counts
from recommendations.tuning.grid import grid_candidates, grid_choice
from recommendations.tuning.objective import Candidate, Strategy, choose
from recommendations.tuning.request import SearchKind, TuningState
from recommendations.tuning.result import ConfigurationEstimate, TuningResult
from recommendations.tuning.samples import (
    ConfigSamples,
    group,
    has_headroom,
    measured_cost_usd,
    peak_memory_used_mb,
    power_tuning_trimmed_mean,
    quantile,
)

CURVE_STEP = 1.05


def _monthly(cost: float | None, state: TuningState) -> float | None:
    per_month = state.request.invocations_per_month
    if cost is None or per_month is None:
        return None
    return cost * per_month


def measured_estimate(
    samples: ConfigSamples, state: TuningState, prices: RegionPrices
) -> ConfigurationEstimate:
    """Plain figures from the invocations at one configuration (warm ones where there are)."""
    warm = [o for o in samples.observations if o.ok and not o.cold]
    used = warm or [o for o in samples.observations if o.ok]
    inits = [o.init_duration_ms for o in samples.observations if o.init_duration_ms is not None]
    duration = sum(o.duration_ms for o in used) / len(used) if used else None
    cost = measured_cost_usd(samples, prices)
    errors = samples.errors
    return ConfigurationEstimate(
        memory_mb=samples.memory_mb,
        architecture=samples.architecture,
        feasible=not errors and has_headroom(samples),
        error=errors[0] if errors else None,
        failures=failure_counts(samples.observations),
        duration_ms=duration,
        duration_p99_ms=quantile([o.duration_ms for o in used], 0.99) if used else None,
        cost_per_invocation_usd=cost,
        monthly_cost_usd=_monthly(cost, state),
        invocations=len(samples.observations),
        warm_invocations=len(warm),
        max_memory_used_mb=samples.max_memory_used_mb,
        cold_init_ms=sum(inits) / len(inits) if inits else None,
    )


def _model_estimate(
    candidate: Candidate,
    state: TuningState,
    groups: dict[tuple[int, Architecture], ConfigSamples],
    used_mb: int | None,
) -> ConfigurationEstimate:
    samples = groups.get((candidate.memory_mb, candidate.architecture))
    return ConfigurationEstimate(
        memory_mb=candidate.memory_mb,
        architecture=candidate.architecture,
        duration_ms=candidate.duration_ms,
        duration_p99_ms=candidate.duration_p99_ms,
        cost_per_invocation_usd=candidate.cost_usd,
        monthly_cost_usd=_monthly(candidate.cost_usd, state),
        invocations=len(samples.observations) if samples else 0,
        warm_invocations=len(samples.warm_durations) if samples else 0,
        max_memory_used_mb=used_mb,
    )


def _refine_to_integer(
    fit: ArchitectureFit, choice: Candidate, state: TuningState, prices: RegionPrices
) -> Candidate:
    """The grid is 1% apart; for the cost strategy the exact integer is cheap to find."""
    if state.request.objective.strategy is not Strategy.COST:
        return choice
    low = max(fit.lower_mb, math.floor(choice.memory_mb / 1.01))
    high = min(fit.upper_mb, math.ceil(choice.memory_mb * 1.01))
    candidates = [
        fit.estimate(m, prices)
        for m in range(low, high + 1)
        if m not in fit.excluded and not fit.too_slow(fit.model.duration_ms(m))
    ]

    return choose(candidates, state.request.objective) or choice


def _measured_choice(analysis: Analysis, state: TuningState, prices: RegionPrices) -> Candidate:
    """When the search stopped before it was sure, stay close to memories actually measured."""
    assert analysis.choice is not None
    offered = [
        c
        for f in analysis.fits.values()
        for c in f.candidates(f.model, prices)
        if any(
            abs(g.memory_mb / c.memory_mb - 1) <= NEAR and len(g.warm_durations) >= WARM_PER_CONFIG
            for g in f.points
        )
    ]
    return choose(offered, state.request.objective, analysis.cheapest_usd) or analysis.choice


def _cost_ceiling(analysis: Analysis, state: TuningState) -> float | None:
    """fastest-within: (1 + X) × the cheapest measured configuration's cost."""
    objective = state.request.objective
    if objective.strategy is not Strategy.FASTEST_WITHIN or analysis.cheapest_usd is None:
        return None
    return analysis.cheapest_usd * (1 + objective.within_percent / 100.0)


def _within_measured_ceiling(
    best: ConfigurationEstimate,
    analysis: Analysis,
    state: TuningState,
    groups: dict[tuple[int, Architecture], ConfigSamples],
    prices: RegionPrices,
) -> ConfigurationEstimate:
    """fastest-within promises never more than (1 + X) × the cheapest measured cost.

    When the model's answer breaks it, the fastest measured configuration under the ceiling
    is returned instead (the cheapest measured one always is).
    """
    ceiling = _cost_ceiling(analysis, state)
    cost = best.cost_per_invocation_usd
    if ceiling is None or analysis.cheapest is None or cost is None or cost <= ceiling:
        return best
    under = [
        e
        for g in groups.values()
        if g.architecture in analysis.fits and not g.failed and has_headroom(g)
        for e in (measured_estimate(g, state, prices),)
        if e.cost_per_invocation_usd is not None
        and e.duration_ms is not None
        and e.cost_per_invocation_usd <= ceiling
    ]
    return min(
        under or [measured_estimate(analysis.cheapest, state, prices)],
        key=lambda e: (e.duration_ms or 0.0, e.cost_per_invocation_usd or 0.0),
    )


def _curve(
    analysis: Analysis, state: TuningState, prices: RegionPrices, used_mb: int | None
) -> tuple[ConfigurationEstimate, ...]:
    points: list[ConfigurationEstimate] = []
    for fit in analysis.fits.values():
        memory = float(fit.lower_mb)
        while memory <= fit.upper_mb:
            candidate = fit.estimate(int(memory), prices)
            points.append(_model_estimate(candidate, state, {}, used_mb))
            memory *= CURVE_STEP
    return tuple(points)


def result(state: TuningState) -> TuningResult:
    prices = prices_for(state.request.region)
    if state.request.search is SearchKind.GRID:
        return _grid_result(state, prices)
    return _adaptive_result(state, prices)


def _common(state: TuningState, prices: RegionPrices) -> dict[str, object]:
    return {
        "function_name": state.request.function_name,
        "search": state.request.search,
        "objective": state.request.objective,
        "invocations": len(state.observations),
        "gb_seconds": gb_seconds(state.observations),
        "tuning_cost_usd": spent_usd(state.observations, prices),
        "stop_reason": state.stop_reason or ("finished" if state.finished else "in progress"),
        "stopped_by": state.stopped_by,
        "invocations_per_month": state.request.invocations_per_month,
        "max_memory_used_mb": peak_memory_used_mb(state.observations),
    }


def _adaptive_result(state: TuningState, prices: RegionPrices) -> TuningResult:
    request = state.request
    groups = group(state.observations)
    analysis = analyse(state, prices)
    used_mb = analysis.memory_used_mb
    measured = tuple(measured_estimate(g, state, prices) for g in groups.values())
    best: ConfigurationEstimate | None = None
    on_current: ConfigurationEstimate | None = None
    current: ConfigurationEstimate | None = None
    if analysis.choice is not None:
        choice = analysis.choice if analysis.settled else _measured_choice(analysis, state, prices)
        fit = analysis.fits[choice.architecture]
        chosen = _refine_to_integer(fit, choice, state, prices)
        best = _model_estimate(chosen, state, groups, used_mb)
        kept = _within_measured_ceiling(best, analysis, state, groups, prices)
        if kept is not best:
            best = kept
            chosen = Candidate(
                memory_mb=kept.memory_mb,
                architecture=kept.architecture,
                duration_ms=kept.duration_ms or 0.0,
                cost_usd=kept.cost_per_invocation_usd or 0.0,
            )
        current_fit = analysis.fits.get(request.current_architecture)
        if current_fit is not None:
            on_current = _model_estimate(
                current_fit.estimate(chosen.memory_mb, prices), state, groups, used_mb
            )
            if request.current_memory_mb >= current_fit.lower_mb:
                current = _model_estimate(
                    current_fit.estimate(request.current_memory_mb, prices),
                    state,
                    groups,
                    used_mb,
                )
    if current is None:
        samples = groups.get((request.current_memory_mb, request.current_architecture))
        if samples is not None:
            current = measured_estimate(samples, state, prices)
    confidence = analysis.confidence()
    return TuningResult(
        **_common(state, prices),
        best=best,
        current=current,
        best_on_current_architecture=on_current,
        results=measured,
        curve=_curve(analysis, state, prices, used_mb),
        confidence=confidence,
        confidence_statement=_adaptive_statement(analysis),
    )


def _adaptive_statement(analysis: Analysis) -> str:
    parts: list[str] = []
    if analysis.choice is None:
        parts.append("No configuration could be recommended.")
    else:
        share = round(SETTLE_QUANTILE * 100)
        gap = analysis.shortfall_quantile
        if math.isfinite(gap):
            parts.append(
                f"In {share}% of {BOOTSTRAPS} resampled fits the choice is within "
                f"{max(gap, 0.0) * 100:.1f}% of the best configuration."
            )
        if not analysis.validated:
            parts.append("The chosen memory itself was not measured.")
    for architecture, reason in analysis.infeasible.items():
        parts.append(f"{architecture.value} was ruled out: {reason}.")
    return " ".join(parts)


def _grid_result(state: TuningState, prices: RegionPrices) -> TuningResult:
    groups = group(state.observations)
    measured_pairs = grid_candidates(state, prices)
    by_config = {(c.memory_mb, c.architecture): c for _, c in measured_pairs}
    results: list[ConfigurationEstimate] = []
    for samples in groups.values():
        plain = measured_estimate(samples, state, prices)
        candidate = by_config.get(samples.config)
        if candidate is not None:
            cost = candidate.cost_usd + prices.request
            plain = plain.model_copy(
                update={
                    "duration_ms": candidate.duration_ms,
                    "cost_per_invocation_usd": cost,
                    "monthly_cost_usd": _monthly(cost, state),
                }
            )
        results.append(plain)
    choice = grid_choice(state, prices)
    best = None
    if choice is not None:
        best = next(
            r
            for r in results
            if (r.memory_mb, r.architecture) == (choice.memory_mb, choice.architecture)
        )
    current = next(
        (
            r
            for r in results
            if (r.memory_mb, r.architecture)
            == (state.request.current_memory_mb, state.request.current_architecture)
        ),
        None,
    )
    on_current = None
    if best is not None:
        on_current = next(
            (
                r
                for r in results
                if (r.memory_mb, r.architecture)
                == (best.memory_mb, state.request.current_architecture)
            ),
            None,
        )
    confidence, statement = _grid_confidence(state, groups, choice)
    return TuningResult(
        **_common(state, prices),
        best=best,
        current=current,
        best_on_current_architecture=on_current,
        results=tuple(results),
        confidence=confidence,
        confidence_statement=statement,
    )


def _grid_confidence(
    state: TuningState,
    groups: dict[tuple[int, Architecture], ConfigSamples],
    choice: Candidate | None,
) -> tuple[Confidence, str]:
    if choice is None:
        return Confidence.LOW, "No memory value could be measured without errors."
    samples = groups[(choice.memory_mb, choice.architecture)]
    billed = [float(o.billed_duration_ms) for o in samples.observations]
    n = len(billed)
    spread = (max(billed) - min(billed)) / max(power_tuning_trimmed_mean(billed), 1e-9)
    statement = (
        f"Best of {len(groups)} measured configurations, {n} invocations each "
        f"(trimmed mean, spread {spread * 100:.0f}%); memory between the values was not tried."
    )
    if n < 5:
        return Confidence.LOW, statement
    return (Confidence.MEDIUM if spread > 0.5 else Confidence.HIGH), statement

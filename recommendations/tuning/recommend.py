"""Turn a benchmark result into recommendations with their own changes (and Apply buttons).

A memory change and an architecture change are separate recommendations: they are applied by
different API calls and may be approved one at a time. When both change, the memory saving is
priced on the current architecture and the architecture saving at the new memory.
"""

from __future__ import annotations

from recommendations.changes import ArchitectureChange, MemoryChange
from recommendations.headroom import describe_margin, risk_for_size
from recommendations.recommendation import (
    Category,
    Evidence,
    Recommendation,
    Risk,
    Severity,
    TradeOff,
)
from recommendations.snapshot import Architecture
from recommendations.tuning.result import ConfigurationEstimate, TuningResult

MEMORY_RULE_ID = "TUNE-MEM"
ARCHITECTURE_RULE_ID = "TUNE-ARCH"
# Every rule id a benchmark's recommendations carry (the static rules' ids never start so).
BENCHMARK_RULE_IDS = frozenset({MEMORY_RULE_ID, ARCHITECTURE_RULE_ID})


def _monthly(estimate: ConfigurationEstimate | None) -> float | None:
    return None if estimate is None else estimate.monthly_cost_usd


def _saving(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    return before - after


def _memory_risk(result: TuningResult, chosen: ConfigurationEstimate) -> Risk:
    """The headroom policy's risk for the chosen memory over the peak measured there (or over
    the whole run's peak when the chosen configuration reported none)."""
    return risk_for_size(chosen.memory_mb, _peak(result, chosen))


def _peak(result: TuningResult, chosen: ConfigurationEstimate) -> int | None:
    return chosen.max_memory_used_mb or result.max_memory_used_mb


def _headroom_sentence(result: TuningResult, chosen: ConfigurationEstimate) -> str:
    peak = _peak(result, chosen)
    if not peak:
        return ""
    return f" {chosen.memory_mb} MB {describe_margin(chosen.memory_mb, peak)}."


def _severity(saving: float | None, before: float | None) -> Severity:
    if saving is None or before is None or before <= 0 or saving <= 0:
        return Severity.INFO
    share = saving / before
    if share >= 0.3 or saving >= 1000:
        return Severity.HIGH
    if share >= 0.1 or saving >= 100:
        return Severity.MEDIUM
    return Severity.LOW


def _evidence(
    result: TuningResult, before: ConfigurationEstimate | None, after: ConfigurationEstimate
) -> tuple[Evidence, ...]:
    items: list[Evidence] = [
        Evidence(
            label=f"Duration at {estimate.memory_mb} MB {estimate.architecture.value}",
            value=round(estimate.duration_ms, 1),
            unit="ms",
            source="benchmark",
        )
        for estimate in (before, after)
        if estimate is not None and estimate.duration_ms is not None
    ]
    if result.max_memory_used_mb is not None:
        items.append(
            Evidence(
                label="Max memory used",
                value=result.max_memory_used_mb,
                unit="MB",
                source="benchmark",
            )
        )
    items.append(
        Evidence(label="Benchmark invocations", value=result.invocations, source="benchmark")
    )
    items.append(
        Evidence(
            label="Benchmark cost",
            value=round(result.tuning_cost_usd, 6),
            unit="USD",
            source="benchmark",
        )
    )
    return tuple(items)


class _Target:
    """Where the recommendations go: the benchmarked function's identity."""

    def __init__(self, result: TuningResult, function_arn: str, region: str, account_id: str):
        self.result = result
        self.function_arn = function_arn
        self.region = region
        self.account_id = account_id

    def recommend(
        self,
        *,
        rule_id: str,
        category: Category,
        title: str,
        rationale: str,
        before: ConfigurationEstimate | None,
        after: ConfigurationEstimate,
        change: MemoryChange | ArchitectureChange,
        risk: Risk,
        notes: tuple[str, ...] = (),
    ) -> Recommendation:
        """One benchmarked recommendation, priced from the estimates before and after it."""
        before_cost, after_cost = _monthly(before), _monthly(after)
        saving = _saving(before_cost, after_cost)
        return Recommendation(
            function=self.result.function_name,
            function_arn=self.function_arn,
            region=self.region,
            account_id=self.account_id,
            rule_id=rule_id,
            category=category,
            severity=_severity(saving, before_cost),
            title=title,
            rationale=f"{rationale} {self.result.confidence_statement}",
            evidence=_evidence(self.result, before, after),
            confidence=self.result.confidence,
            change=change,
            monthly_cost_before_usd=before_cost,
            monthly_cost_after_usd=after_cost,
            monthly_savings_usd=saving,
            trade_off=TradeOff.SPEED if saving is not None and saving < 0 else None,
            risk=risk,
            notes=notes,
        )


def recommendations_from_result(
    result: TuningResult,
    *,
    function_arn: str,
    region: str,
    account_id: str,
    current_memory_mb: int,
    current_architecture: Architecture,
) -> list[Recommendation]:
    """Zero, one or two recommendations (memory, architecture) for the benchmarked choice."""
    best = result.best
    if best is None:
        return []
    target = _Target(result, function_arn, region, account_id)
    recommendations: list[Recommendation] = []
    memory_after = result.best_on_current_architecture or best
    if best.memory_mb != current_memory_mb:
        recommendations.append(
            target.recommend(
                rule_id=MEMORY_RULE_ID,
                category=Category.MEMORY,
                title=f"Set memory to {best.memory_mb} MB (benchmarked)",
                rationale=(
                    f"A benchmark ({result.search.value} search, {result.invocations} "
                    f"invocations) found {best.memory_mb} MB best for "
                    f"{result.objective.describe()}.{_headroom_sentence(result, best)}"
                ),
                before=result.current,
                after=memory_after,
                change=MemoryChange(
                    function_name=result.function_name,
                    before=current_memory_mb,
                    after=best.memory_mb,
                ),
                risk=_memory_risk(result, best),
            )
        )
    if best.architecture is not current_architecture:
        recommendations.append(
            target.recommend(
                rule_id=ARCHITECTURE_RULE_ID,
                category=Category.ARCHITECTURE,
                title=f"Switch to {best.architecture.value} (benchmarked)",
                rationale=(
                    f"The benchmark ran the function on {best.architecture.value} without "
                    f"errors and found it best for {result.objective.describe()} at "
                    f"{best.memory_mb} MB."
                ),
                before=memory_after if memory_after is not best else result.current,
                after=best,
                change=ArchitectureChange(
                    function_name=result.function_name,
                    before=current_architecture,
                    after=best.architecture,
                ),
                risk=Risk.MEDIUM,
                notes=("The same code package is re-deployed for the new architecture.",),
            )
        )
    return recommendations


def measured_memory_recommendation(
    result: TuningResult,
    *,
    function_arn: str,
    region: str,
    account_id: str,
    current_memory_mb: int,
    current_architecture: Architecture,
) -> Recommendation | None:
    """The measured best memory on the function's own architecture, or None when that is the
    memory it has: the answer to Slack's "Benchmark first", where an architecture change stays
    a decision of its own (the benchmark's summary says whether the other one was cheaper)."""
    best = result.best_on_current_architecture or result.best
    if best is None or best.architecture is not current_architecture:
        return None
    if best.memory_mb == current_memory_mb:
        return None
    return _Target(result, function_arn, region, account_id).recommend(
        rule_id=MEMORY_RULE_ID,
        category=Category.MEMORY,
        title=f"Set memory to {best.memory_mb} MB (measured)",
        rationale=(
            f"A benchmark ({result.search.value} search, {result.invocations} invocations) "
            f"measured {best.memory_mb} MB best on {current_architecture.value} for "
            f"{result.objective.describe()}.{_headroom_sentence(result, best)}"
        ),
        before=result.current,
        after=best,
        change=MemoryChange(
            function_name=result.function_name, before=current_memory_mb, after=best.memory_mb
        ),
        risk=_memory_risk(result, best),
    )

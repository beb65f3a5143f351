"""Turn a benchmark result into recommendations with their own changes (and Apply buttons).

A memory change and an architecture change are separate recommendations: they are applied by
different API calls and may be approved one at a time. When both change, the memory saving is
priced on the current architecture and the architecture saving at the new memory.
"""

from __future__ import annotations

from recommendations.changes import ArchitectureChange, MemoryChange
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


def _monthly(estimate: ConfigurationEstimate | None) -> float | None:
    return None if estimate is None else estimate.monthly_cost_usd


def _saving(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    return before - after


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
    items: list[Evidence] = []
    if before is not None and before.duration_ms is not None:
        items.append(
            Evidence(
                label=f"Duration at {before.memory_mb} MB {before.architecture.value}",
                value=round(before.duration_ms, 1),
                unit="ms",
                source="benchmark",
            )
        )
    if after.duration_ms is not None:
        items.append(
            Evidence(
                label=f"Duration at {after.memory_mb} MB {after.architecture.value}",
                value=round(after.duration_ms, 1),
                unit="ms",
                source="benchmark",
            )
        )
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
    recommendations: list[Recommendation] = []
    memory_after = result.best_on_current_architecture or best
    if best.memory_mb != current_memory_mb:
        before_cost = _monthly(result.current)
        after_cost = _monthly(memory_after)
        saving = _saving(before_cost, after_cost)
        recommendations.append(
            Recommendation(
                function=result.function_name,
                function_arn=function_arn,
                region=region,
                account_id=account_id,
                rule_id=MEMORY_RULE_ID,
                category=Category.MEMORY,
                severity=_severity(saving, before_cost),
                title=f"Set memory to {best.memory_mb} MB (benchmarked)",
                rationale=(
                    f"A benchmark ({result.search.value} search, {result.invocations} "
                    f"invocations) found {best.memory_mb} MB best for "
                    f"{result.objective.describe()}. {result.confidence_statement}"
                ),
                evidence=_evidence(result, result.current, memory_after),
                confidence=result.confidence,
                change=MemoryChange(
                    function_name=result.function_name,
                    before=current_memory_mb,
                    after=best.memory_mb,
                ),
                monthly_cost_before_usd=before_cost,
                monthly_cost_after_usd=after_cost,
                monthly_savings_usd=saving,
                trade_off=TradeOff.SPEED if saving is not None and saving < 0 else None,
                risk=Risk.LOW,
            )
        )
    if best.architecture is not current_architecture:
        before_cost = (
            _monthly(memory_after) if memory_after is not best else _monthly(result.current)
        )
        after_cost = _monthly(best)
        saving = _saving(before_cost, after_cost)
        recommendations.append(
            Recommendation(
                function=result.function_name,
                function_arn=function_arn,
                region=region,
                account_id=account_id,
                rule_id=ARCHITECTURE_RULE_ID,
                category=Category.ARCHITECTURE,
                severity=_severity(saving, before_cost),
                title=f"Switch to {best.architecture.value} (benchmarked)",
                rationale=(
                    f"The benchmark ran the function on {best.architecture.value} without "
                    f"errors and found it best for {result.objective.describe()} at "
                    f"{best.memory_mb} MB. {result.confidence_statement}"
                ),
                evidence=_evidence(result, memory_after, best),
                confidence=result.confidence,
                change=ArchitectureChange(
                    function_name=result.function_name,
                    before=current_architecture,
                    after=best.architecture,
                ),
                monthly_cost_before_usd=before_cost,
                monthly_cost_after_usd=after_cost,
                monthly_savings_usd=saving,
                trade_off=TradeOff.SPEED if saving is not None and saving < 0 else None,
                risk=Risk.MEDIUM,
                notes=("The same code package is re-deployed for the new architecture.",),
            )
        )
    return recommendations

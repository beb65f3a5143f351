"""Small pieces every rule family uses: building a recommendation, rounding memory, costs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from recommendations.changes import Change
from recommendations.pricing import MonthlyCost, monthly_cost
from recommendations.recommendation import (
    Confidence,
    Evidence,
    Recommendation,
    Risk,
    Severity,
    TradeOff,
)
from recommendations.rules.base import Rule
from recommendations.snapshot import (
    MAX_MEMORY_MB,
    MIN_MEMORY_MB,
    Architecture,
    FigureSource,
    FunctionSnapshot,
    FunctionStats,
)

# One full vCPU: below this, Lambda gives a function a share of one vCPU in proportion to memory.
VCPU_MB = 1769
# Memory proposals are rounded up to this step; odd sizes confuse people and save nothing.
MEMORY_STEP_MB = 64
# Below this a cost recommendation is noise next to the effort of changing anything.
MIN_WORTHWHILE_SAVINGS_USD = 0.10
# Log-derived figures (memory used, timeouts, cold starts) need this many REPORT lines.
MIN_LOG_SAMPLE = 50
# Duration figures that suggest a CPU-bound handler: slow and steady. A function that waits
# on I/O tends to have a wide spread between its median and its p90.
CPU_BOUND_MIN_P50_MS = 1000.0
CPU_BOUND_MAX_P90_TO_P50 = 1.5


def round_up_memory(memory_mb: float) -> int:
    """Round up to the next ``MEMORY_STEP_MB``, within Lambda's limits."""
    stepped = math.ceil(memory_mb / MEMORY_STEP_MB) * MEMORY_STEP_MB
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, stepped))


def cpu_share(memory_mb: int) -> float:
    """vCPU a single-threaded handler can use at ``memory_mb`` (at most one)."""
    return min(memory_mb, VCPU_MB) / VCPU_MB


def looks_cpu_bound(stats: FunctionStats) -> bool:
    p50, p90 = stats.duration_p50_ms, stats.duration_p90_ms
    if p50 is None or p90 is None or p50 <= 0:
        return False
    return p50 >= CPU_BOUND_MIN_P50_MS and p90 / p50 <= CPU_BOUND_MAX_P90_TO_P50


def report_lines_off(fn: FunctionSnapshot) -> str | None:
    """The unknown reason for figures that come from REPORT lines, when the function's system
    log level filters them out (they are INFO events), else None."""
    if fn.writes_report_lines:
        return None
    level = fn.system_log_level.value if fn.system_log_level else "WARN"
    return f"REPORT lines are off (system log level {level})"


def log_sample_too_small(stats: FunctionStats) -> str | None:
    """A reason when REPORT-line figures rest on too few invocations, else None."""
    sample = stats.log_sample_invocations
    if sample is None:
        return "no REPORT log lines were sampled"
    if sample < MIN_LOG_SAMPLE:
        return f"only {sample} invocations were sampled from the logs (need {MIN_LOG_SAMPLE})"
    return None


def cost(
    fn: FunctionSnapshot,
    now: datetime,
    *,
    memory_mb: int | None = None,
    architecture: Architecture | None = None,
    billed_duration_ms: float | None = None,
    provisioned: int | None = None,
) -> MonthlyCost | None:
    """``pricing.monthly_cost`` at the analysis time, with what-if overrides."""
    if (memory_mb, architecture, billed_duration_ms, provisioned) == (None, None, None, None):
        return _current_cost(fn, now)
    return monthly_cost(
        fn,
        memory_mb=memory_mb,
        architecture=architecture,
        billed_duration_ms=billed_duration_ms,
        provisioned=provisioned,
        at=now,
    )


# The engine runs every rule over one function before it moves to the next, and most rules
# start from the function's cost as it is: the last one is remembered. The entry holds the
# function itself, so ``is`` cannot match a new object that reuses a freed one's address.
_last_current_cost: tuple[FunctionSnapshot, datetime, MonthlyCost | None] | None = None


def _current_cost(fn: FunctionSnapshot, now: datetime) -> MonthlyCost | None:
    global _last_current_cost
    last = _last_current_cost  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is fn and last[1] == now:
        return last[2]
    found = monthly_cost(fn, at=now)
    _last_current_cost = (fn, now, found)
    return found


def percentiles_source(stats: FunctionStats) -> str:
    """Where the duration percentiles came from: CloudWatch unless the scan read them from logs."""
    if stats.duration_percentiles_source is FigureSource.LOGS:
        return FigureSource.LOGS.value
    return FigureSource.METRICS.value


def cents(value: float) -> float:
    return round(value, 2)


def percent(value: float) -> float:
    return round(value * 100.0, 1)


# Evidence values are frozen and many repeat across a fleet (memory sizes, runtimes, counts),
# so equal ones share one object. ``typed``: 1 and 1.0 display differently.
@lru_cache(maxsize=8192, typed=True)
def evidence(label: str, value: float | int | str, unit: str = "", source: str = "") -> Evidence:
    return Evidence(label=label, value=value, unit=unit, source=source)


def build(
    rule: Rule,
    fn: FunctionSnapshot,
    *,
    severity: Severity,
    title: str,
    rationale: str,
    confidence: Confidence,
    evidence: Sequence[Evidence] = (),
    change: Change | None = None,
    cost_before: float | None = None,
    cost_after: float | None = None,
    savings: float | None = None,
    savings_low: float | None = None,
    savings_high: float | None = None,
    trade_off: TradeOff | None = None,
    risk: Risk = Risk.LOW,
    benchmark_first: bool = False,
    notes: Sequence[str] = (),
) -> Recommendation:
    """A recommendation from ``rule`` about ``fn``; money is rounded to cents."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else cents(value)

    all_notes = list(notes)
    if change is not None and fn.managed_by_cloudformation:
        all_notes.append(
            f"{fn.name} is managed by the CloudFormation stack {fn.cloudformation_stack}: "
            "make the same change in the template, or the next deploy reverts it."
        )
    return Recommendation(
        function=fn.name,
        function_arn=fn.arn,
        region=fn.region,
        account_id=fn.account_id,
        rule_id=rule.rule_id,
        category=rule.category,
        severity=severity,
        title=title,
        rationale=rationale,
        evidence=tuple(evidence),
        confidence=confidence,
        change=change,
        monthly_cost_before_usd=rounded(cost_before),
        monthly_cost_after_usd=rounded(cost_after),
        monthly_savings_usd=rounded(savings),
        monthly_savings_low_usd=rounded(savings_low),
        monthly_savings_high_usd=rounded(savings_high),
        trade_off=trade_off,
        risk=risk,
        benchmark_first=benchmark_first,
        notes=tuple(all_notes),
    )

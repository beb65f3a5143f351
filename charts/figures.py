"""One row of figures per benchmarked configuration, shared by the Slack card and the chart.

Every figure is a warm one: a configuration's duration is the mean of its warm invocations and
its cost is priced from that same duration, so the table, the headline and the chart never
show two numbers for one configuration. Cold starts (init) are reported apart.
"""

from __future__ import annotations

import math

from recommendations.pricing import RegionPrices
from recommendations.snapshot import Architecture, Frozen
from recommendations.tuning.result import ConfigurationEstimate, TuningResult


class ConfigurationRow(Frozen):
    memory_mb: int
    architecture: Architecture
    duration_ms: float | None = None
    duration_p99_ms: float | None = None
    cost_per_invocation_usd: float | None = None
    monthly_cost_usd: float | None = None
    # False: the search's model predicts this configuration; it was never invoked.
    measured: bool = True
    # Why no figures could be measured here ("out of memory", "timeout", ...), if so.
    failure: str | None = None
    best: bool = False
    current: bool = False
    cold_init_ms: float | None = None
    invocations: int = 0

    @property
    def key(self) -> tuple[int, Architecture]:
        return (self.memory_mb, self.architecture)

    @property
    def cost_per_million_usd(self) -> float | None:
        if self.cost_per_invocation_usd is None:
            return None
        return self.cost_per_invocation_usd * 1_000_000


def warm_cost_usd(
    duration_ms: float, memory_mb: int, architecture: Architecture, prices: RegionPrices
) -> float:
    """What one invocation of that duration is billed (1 ms granularity, plus the request)."""
    billed_ms = math.ceil(duration_ms)
    return billed_ms / 1000 * memory_mb / 1024 * prices.gb_second[architecture] + prices.request


def _key(estimate: ConfigurationEstimate | None) -> tuple[int, Architecture] | None:
    return None if estimate is None else (estimate.memory_mb, estimate.architecture)


def _failure(estimate: ConfigurationEstimate) -> str | None:
    if estimate.duration_ms is not None:
        return None
    if estimate.error is not None:
        return estimate.error.value.replace("_", " ")
    kinds = [kind.replace("_", " ") for kind in estimate.failures]
    return ", ".join(kinds) or "no successful invocation"


def _row(
    estimate: ConfigurationEstimate,
    result: TuningResult,
    prices: RegionPrices,
    *,
    measured: bool,
) -> ConfigurationRow:
    cost = estimate.cost_per_invocation_usd
    if measured and estimate.duration_ms is not None:
        # Measured cost averages every billed invocation, the cold first one included;
        # pricing the warm duration keeps duration and cost about the same invocations.
        cost = warm_cost_usd(
            estimate.duration_ms, estimate.memory_mb, estimate.architecture, prices
        )
    monthly = None
    if cost is not None and result.invocations_per_month is not None:
        monthly = cost * result.invocations_per_month
    key = (estimate.memory_mb, estimate.architecture)
    return ConfigurationRow(
        memory_mb=estimate.memory_mb,
        architecture=estimate.architecture,
        duration_ms=estimate.duration_ms,
        duration_p99_ms=estimate.duration_p99_ms,
        cost_per_invocation_usd=cost if estimate.duration_ms is not None else None,
        monthly_cost_usd=monthly if estimate.duration_ms is not None else None,
        measured=measured,
        failure=_failure(estimate) if measured else None,
        best=key == _key(result.best),
        current=key == _key(result.current),
        cold_init_ms=estimate.cold_init_ms,
        invocations=estimate.invocations,
    )


def configuration_rows(result: TuningResult, prices: RegionPrices) -> tuple[ConfigurationRow, ...]:
    """Measured configurations sorted by memory (then architecture), plus the winner and the
    current configuration where the search only predicted them."""
    rows = {
        (e.memory_mb, e.architecture): _row(e, result, prices, measured=True)
        for e in result.results
    }
    for predicted in (result.best, result.current):
        if predicted is not None and _key(predicted) not in rows:
            row = _row(predicted, result, prices, measured=False)
            rows[row.key] = row
    return tuple(sorted(rows.values(), key=lambda r: (r.memory_mb, r.architecture.value)))


def speedup(row: ConfigurationRow, baseline: ConfigurationRow) -> float | None:
    """How many times faster ``row`` runs than ``baseline`` (2.0: half the duration)."""
    if row.duration_ms is None or baseline.duration_ms is None or row.duration_ms <= 0:
        return None
    return baseline.duration_ms / row.duration_ms


def cost_ratio(row: ConfigurationRow, baseline: ConfigurationRow) -> float | None:
    """``row``'s cost as a multiple of ``baseline``'s (0.5: half the cost)."""
    if row.cost_per_invocation_usd is None or not baseline.cost_per_invocation_usd:
        return None
    return row.cost_per_invocation_usd / baseline.cost_per_invocation_usd

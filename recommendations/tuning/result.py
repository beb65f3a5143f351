"""What a tuning run found: the choice, its expected figures, and how sure we are."""

from __future__ import annotations

from pydantic import Field

from recommendations.recommendation import Confidence
from recommendations.snapshot import Architecture, Frozen
from recommendations.tuning.objective import Objective
from recommendations.tuning.observation import ErrorKind
from recommendations.tuning.request import SearchKind, StopCap


class ConfigurationEstimate(Frozen):
    """Expected figures for one configuration (warm invocations, outliers included)."""

    memory_mb: int
    architecture: Architecture
    feasible: bool = True
    error: ErrorKind | None = None
    # Failed invocations here by kind ("out_of_memory", "timeout", "error: TYPE"), and
    # errors of allowed types ("allowed: TYPE"), which were measured like successes.
    failures: dict[str, int] = Field(default_factory=dict)
    duration_ms: float | None = None
    duration_p99_ms: float | None = None
    cost_per_invocation_usd: float | None = None
    monthly_cost_usd: float | None = None
    # Invocations measured at exactly this configuration (0: a model prediction only).
    invocations: int = 0
    warm_invocations: int = 0
    max_memory_used_mb: int | None = None
    cold_init_ms: float | None = None


class TuningResult(Frozen):
    function_name: str
    search: SearchKind
    objective: Objective
    best: ConfigurationEstimate | None
    # The function's current configuration, for comparison (None when not measurable).
    current: ConfigurationEstimate | None = None
    # The chosen memory on the current architecture: splits a memory saving from an
    # architecture saving when both change.
    best_on_current_architecture: ConfigurationEstimate | None = None
    results: tuple[ConfigurationEstimate, ...] = ()
    # Model predictions across memory (adaptive search only), for charts.
    curve: tuple[ConfigurationEstimate, ...] = ()
    invocations: int = Field(ge=0)
    gb_seconds: float = Field(ge=0)
    tuning_cost_usd: float = Field(ge=0)
    confidence: Confidence
    confidence_statement: str
    stop_reason: str
    # Which of the user's caps stopped the run: max_cost, max_invocations, max_time, or None.
    stopped_by: StopCap | None = None
    invocations_per_month: float | None = None
    max_memory_used_mb: int | None = None

    @property
    def monthly_savings_usd(self) -> float | None:
        if self.best is None or self.current is None:
            return None
        if self.best.monthly_cost_usd is None or self.current.monthly_cost_usd is None:
            return None
        return self.current.monthly_cost_usd - self.best.monthly_cost_usd

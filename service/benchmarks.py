"""Benchmarking a recommendation's function from Slack ("Benchmark first"): the use case.

The search itself is pure (``recommendations.tuning``); this runs it through an invoker the
composition root provides (temporary copies of the real function in Lambda), within caps on
what one click may spend and how long it may run, and stores the measured recommendation so
its Apply button works.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from recommendations.changes import ArchitectureChange
from recommendations.snapshot import Architecture
from recommendations.tuning.outcome import result as tuning_result
from recommendations.tuning.recommend import measured_memory_recommendation
from recommendations.tuning.request import TuningRequest
from recommendations.tuning.result import TuningResult
from recommendations.tuning.search import ProbeRunner, run, start
from service.analysis import service_error
from service.api import BenchmarkOutcome
from service.errors import PortError, ServiceError
from service.ports import InvokerFactory, RecommendationStore

# A "Benchmark first" click runs in the Slack function's lazy listener (600 s timeout): these
# caps bound what one click may spend (its time budget is the invoker's: handlers.compose).
BENCHMARK_MAX_INVOCATIONS = 150
BENCHMARK_MAX_COST_USD = 0.50


class BenchmarkService:
    def __init__(self, store: RecommendationStore, invoker_factory: InvokerFactory | None) -> None:
        self.store = store
        self.invoker_factory = invoker_factory

    def benchmark(self, recommendation_id: str, *, user_id: str) -> BenchmarkOutcome:
        """Benchmark the recommendation's function; a resulting recommendation is stored too."""
        stored = self.store.get_recommendation(recommendation_id)
        if stored is None or stored.function is None:
            raise ServiceError("tunebot no longer knows this recommendation: run /tune again.")
        if self.invoker_factory is None:
            raise ServiceError(
                "Benchmarks are not available in this deployment: no benchmark invoker is "
                "configured. Run `tunebot tune` from a workstation instead."
            )
        fn = stored.function
        stats = fn.stats
        architectures: tuple[Architecture, ...] = (fn.architecture,)
        change = stored.recommendation.change
        if isinstance(change, ArchitectureChange) and change.after is not fn.architecture:
            # An architecture change is checked by measuring both architectures.
            architectures = (fn.architecture, change.after)
        request = TuningRequest(
            function_name=fn.name,
            region=fn.region,
            architectures=architectures,
            current_memory_mb=fn.memory_mb,
            current_architecture=fn.architecture,
            invocations_per_month=stats.invocations_per_month if stats else None,
            timeout_ms=fn.timeout_s * 1000,
            max_invocations=BENCHMARK_MAX_INVOCATIONS,
            max_cost_usd=BENCHMARK_MAX_COST_USD,
        )
        try:
            invoker = self.invoker_factory(fn)
            scoped: AbstractContextManager[ProbeRunner] = (
                invoker if isinstance(invoker, AbstractContextManager) else nullcontext(invoker)
            )
            with scoped as active:
                state = run(start(request), active)
        except PortError as error:
            raise service_error(error) from error
        found = tuning_result(state)
        follow_up = measured_memory_recommendation(
            found,
            function_arn=fn.arn,
            region=fn.region,
            account_id=fn.account_id,
            current_memory_mb=fn.memory_mb,
            current_architecture=fn.architecture,
        )
        if follow_up is not None:
            self.store.put_recommendation(follow_up, fn, requested_by=user_id)
        best = found.best_on_current_architecture or found.best
        summary = found.confidence_statement
        if best is not None:
            summary = f"Best: {best.memory_mb} MB on {best.architecture.value}. {summary}"
        if len(architectures) > 1:
            summary += " " + architecture_verdict(found, fn.architecture, architectures[1])
        return BenchmarkOutcome(
            function=fn.name,
            summary=summary,
            invocations=found.invocations,
            tuning_cost_usd=found.tuning_cost_usd,
            results=result_lines(found),
            recommendation=follow_up,
            result=found,
            region=fn.region,
        )


def result_lines(found: TuningResult) -> tuple[str, ...]:
    """One fixed-width line per measured configuration, for the thread's code block."""
    return tuple(
        f"{item.memory_mb:>6} MB {item.architecture.value:<7} "
        + (f"{item.duration_ms:8.1f} ms" if item.duration_ms is not None else "       – ms")
        + (
            f"  ${item.cost_per_invocation_usd:.9f}"
            if item.cost_per_invocation_usd is not None
            else "  (failed)"
        )
        for item in found.results
    )


def architecture_verdict(found: TuningResult, current: Architecture, other: Architecture) -> str:
    """Whether the other architecture measured cheaper, in one sentence."""
    mine, theirs = found.best_on_current_architecture, found.best
    if theirs is None or theirs.architecture is not other:
        return f"{other.value} was measured too and is not cheaper."
    if mine is None or mine.cost_per_invocation_usd is None:
        return f"Only {other.value} ran: {theirs.memory_mb} MB is its best."
    if theirs.cost_per_invocation_usd is None:
        return f"{other.value} was measured too; its cost is unknown."
    saving = 1 - theirs.cost_per_invocation_usd / mine.cost_per_invocation_usd
    return (
        f"{other.value} at {theirs.memory_mb} MB costs {saving:.0%} less per invocation than "
        f"{current.value} at {mine.memory_mb} MB: apply the architecture change to get it."
    )

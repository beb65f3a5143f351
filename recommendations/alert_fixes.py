"""Which of a function's recommendations an alert card offers as fixes, and in what order.

Pure. A card leads with the recommendations that address the diagnosed causes (each diagnosis
names its ``addressed_by`` change categories), then those relevant to the alarm's metric. A
change that can make the alarm's own metric worse (a memory cut on a Duration alarm, a
concurrency cap on a Throttles alarm) is never a fix, whatever its category: it is set aside
with the function's other recommendations, which a card shows only collapsed as "other
savings".
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from recommendations.changes import (
    ArchitectureChange,
    MemoryChange,
    ProvisionedConcurrencyChange,
    ReservedConcurrencyChange,
    TimeoutChange,
)
from recommendations.diagnoses import DIAGNOSIS_CLASSES
from recommendations.diagnoses.base import CauseKind, LikelyCause
from recommendations.recommendation import Category, Recommendation


class Setback(StrEnum):
    """A kind of change that can make some alarm metrics worse, in words for the card."""

    MEMORY_CUT = "a memory cut"
    CONCURRENCY_CAP = "a concurrency cap"
    PROVISIONED_CUT = "less provisioned concurrency"
    TIMEOUT_CUT = "a shorter timeout"
    ARCHITECTURE_SWITCH = "a switch of architecture"


# Less memory is less CPU: longer invocations, which also hold concurrency longer and drain
# queues and streams more slowly. A cap throttles what is above it. Fewer provisioned
# environments mean more cold starts and spillover. A shorter timeout turns slow
# invocations into errors. Another architecture runs the same code at a speed only a benchmark
# tells (native dependencies, emulated instructions), so it is a saving, not a latency fix.
_LATENCY = frozenset({Setback.MEMORY_CUT, Setback.ARCHITECTURE_SWITCH})
_BACKLOG = frozenset({Setback.MEMORY_CUT, Setback.CONCURRENCY_CAP})
SETBACKS_BY_METRIC: dict[str, frozenset[Setback]] = {
    "Duration": _LATENCY,
    "PostRuntimeExtensionsDuration": _LATENCY,
    "init_duration": _LATENCY | {Setback.PROVISIONED_CUT},
    "memory_utilization": frozenset({Setback.MEMORY_CUT}),
    "Errors": frozenset({Setback.MEMORY_CUT, Setback.TIMEOUT_CUT}),
    "Throttles": _BACKLOG,
    "ConcurrentExecutions": frozenset({Setback.MEMORY_CUT}),
    "UnreservedConcurrentExecutions": frozenset({Setback.MEMORY_CUT}),
    "IteratorAge": _BACKLOG,
    "OffsetLag": _BACKLOG,
    "AsyncEventAge": _BACKLOG,
    "AsyncEventsDropped": _BACKLOG,
    "DeadLetterErrors": frozenset(),
    "DestinationDeliveryFailures": frozenset(),
    "Invocations": frozenset(),
    "ProvisionedConcurrencySpilloverInvocations": frozenset({Setback.PROVISIONED_CUT}),
    "ProvisionedConcurrencyUtilization": frozenset({Setback.PROVISIONED_CUT}),
}

# Which recommendation categories address which alarm metric, when no cause says more.
RELEVANT_CATEGORIES: dict[str, tuple[Category, ...]] = {
    "Duration": (Category.MEMORY, Category.ARCHITECTURE, Category.COLD_START, Category.TIMEOUT),
    "PostRuntimeExtensionsDuration": (Category.MEMORY,),
    "Errors": (Category.TIMEOUT, Category.MEMORY, Category.ASYNC),
    "Throttles": (Category.CONCURRENCY,),
    "ConcurrentExecutions": (Category.CONCURRENCY,),
    "UnreservedConcurrentExecutions": (Category.CONCURRENCY,),
    "IteratorAge": (Category.BATCHING, Category.MEMORY, Category.CONCURRENCY),
    "OffsetLag": (Category.BATCHING, Category.MEMORY, Category.CONCURRENCY),
    "AsyncEventAge": (Category.ASYNC, Category.CONCURRENCY, Category.MEMORY),
    "AsyncEventsDropped": (Category.ASYNC, Category.CONCURRENCY),
    "DeadLetterErrors": (Category.ASYNC,),
    "DestinationDeliveryFailures": (Category.ASYNC,),
    "Invocations": (Category.MEMORY, Category.ARCHITECTURE, Category.CONCURRENCY),
    "ProvisionedConcurrencySpilloverInvocations": (Category.CONCURRENCY, Category.COLD_START),
    "ProvisionedConcurrencyUtilization": (Category.CONCURRENCY, Category.COLD_START),
    "init_duration": (Category.COLD_START, Category.PACKAGE, Category.MEMORY),
    "memory_utilization": (Category.MEMORY,),
}

ADDRESSED_BY: dict[CauseKind, tuple[Category, ...]] = {
    cls.kind: cls.addressed_by for cls in DIAGNOSIS_CLASSES
}


def setback_of(rec: Recommendation) -> Setback | None:
    """What the recommended change takes away that an alarm could miss, if anything."""
    change = rec.change
    if isinstance(change, MemoryChange) and change.after < change.before:
        return Setback.MEMORY_CUT
    # A reservation is also a ceiling: setting one where there was none caps the function.
    if (
        isinstance(change, ReservedConcurrencyChange)
        and change.after is not None
        and (change.before is None or change.after < change.before)
    ):
        return Setback.CONCURRENCY_CAP
    if isinstance(change, ProvisionedConcurrencyChange) and change.after < change.before:
        return Setback.PROVISIONED_CUT
    if isinstance(change, TimeoutChange) and change.after < change.before:
        return Setback.TIMEOUT_CUT
    if isinstance(change, ArchitectureChange) and change.after != change.before:
        return Setback.ARCHITECTURE_SWITCH
    return None


def worsened_metric(rec: Recommendation, alarm_metrics: Sequence[str]) -> str | None:
    """The first of the alarm's metrics that ``rec``'s change can make worse, or None."""
    setback = setback_of(rec)
    if setback is None:
        return None
    return next(
        (metric for metric in alarm_metrics if setback in SETBACKS_BY_METRIC.get(metric, ())),
        None,
    )


def fixes_for(
    causes: Sequence[LikelyCause],
    recommendations: Sequence[Recommendation],
    alarm_metrics: Sequence[str],
) -> tuple[tuple[Recommendation, ...], tuple[Recommendation, ...]]:
    """(fixes, other savings) for an alarm on ``alarm_metrics`` with the diagnosed ``causes``.

    ``causes`` come most likely first and ``recommendations`` ranked. Fixes are the
    recommendations addressing a cause, grouped by the first cause they address, then those
    relevant to the alarm's metrics; each group keeps the engine's rank. A change that can
    worsen one of the alarm's metrics is never a fix. Every recommendation lands in exactly one
    of the two.
    """
    cause_order: dict[Category, int] = {}
    for position, cause in enumerate(causes):
        for category in ADDRESSED_BY.get(cause.kind, ()):
            cause_order.setdefault(category, position)
    relevant = {
        category for metric in alarm_metrics for category in RELEVANT_CATEGORIES.get(metric, ())
    }
    safe = [rec for rec in recommendations if worsened_metric(rec, alarm_metrics) is None]
    for_causes = sorted(
        (rec for rec in safe if rec.category in cause_order),
        key=lambda rec: cause_order[rec.category],
    )
    for_metric = [
        rec for rec in safe if rec.category not in cause_order and rec.category in relevant
    ]
    fixes = (*for_causes, *for_metric)
    chosen = {id(rec) for rec in fixes}
    return fixes, tuple(rec for rec in recommendations if id(rec) not in chosen)

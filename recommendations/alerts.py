"""Why an alarm fired or the bill jumped, in words, from what tunebot knows about a function.

Pure: given the alarm's figures (:class:`AlarmSignal`), the function's snapshot and the engine's
report, :func:`diagnose_alarm` runs the catalogued diagnoses (``recommendations/diagnoses/``) to
name the likely causes with their evidence, and picks the recommendations that address them.
:func:`explain_cost_change` does the same for one function's usage before and during a cost
anomaly. Missing data makes a cause "unknown", never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from recommendations.alert_fixes import RELEVANT_CATEGORIES, fixes_for, worsened_metric
from recommendations.diagnoses import default_diagnoses, diagnosed_metrics
from recommendations.diagnoses.base import AlarmSignal, CauseKind, LikelyCause
from recommendations.recommendation import Confidence, Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot

__all__ = [
    "RELEVANT_CATEGORIES",
    "AlarmSignal",
    "AlertDiagnosis",
    "CauseKind",
    "LikelyCause",
    "UsageWindow",
    "describe_effect",
    "diagnose_alarm",
    "explain_cost_change",
    "fixes_for",
    "worsened_metric",
]


class AlertDiagnosis(Frozen):
    function: str
    # The alarm's metrics: a change that can worsen one of them is never offered as a fix.
    metrics: tuple[str, ...] = ()
    causes: tuple[LikelyCause, ...] = ()
    # What could not be judged, in words (e.g. "no REPORT lines were read").
    unknowns: tuple[str, ...] = ()
    # The fixes (see ``fixes_for``), then the function's other recommendations.
    relevant: tuple[Recommendation, ...] = ()
    others: tuple[Recommendation, ...] = ()

    def fixes(
        self, recommendations: Sequence[Recommendation]
    ) -> tuple[tuple[Recommendation, ...], tuple[Recommendation, ...]]:
        """(fixes, other savings) among ``recommendations`` for this alarm."""
        return fixes_for(self.causes, recommendations, self.metrics)

    @property
    def headline(self) -> str:
        if self.causes:
            return self.causes[0].summary
        return "No likely cause found in the data tunebot has for this function."


_CONFIDENCE_ORDER = {Confidence.HIGH: 0, Confidence.MEDIUM: 1, Confidence.LOW: 2}


def diagnose_alarm(
    fn: FunctionSnapshot,
    signal: AlarmSignal,
    recommendations: Sequence[Recommendation] = (),
) -> AlertDiagnosis:
    """The likely causes of an alarm on ``fn`` and the recommendations that address them.

    ``recommendations`` are the engine's for this function, ranked; they are split into the
    fixes for the diagnosed causes and the alarm's metrics, and the rest (:func:`fixes_for`).
    """
    found: list[LikelyCause] = []
    for metric in signal.metric_names:
        for diagnosis in default_diagnoses():
            if metric not in diagnosis.metrics or any(c.kind is diagnosis.kind for c in found):
                continue
            cause = diagnosis.examine(fn, signal, recommendations)
            if cause is not None:
                found.append(cause)
    found.sort(key=lambda cause: _CONFIDENCE_ORDER[cause.confidence])

    unknowns: list[str] = []
    if fn.stats is None:
        unknowns.append("No metrics or logs were read for this function.")
    elif fn.stats.log_sample_invocations is None:
        unknowns.append("No REPORT log lines were read, so timeouts and memory use are unknown.")
    if not diagnosed_metrics().intersection(signal.metric_names):
        names = ", ".join(signal.metric_names) or "its metrics"
        unknowns.append(f"tunebot has no specific diagnosis for alarms on {names}.")

    relevant, others = fixes_for(found, recommendations, signal.metric_names)
    return AlertDiagnosis(
        function=fn.name,
        metrics=signal.metric_names,
        causes=tuple(found),
        unknowns=tuple(unknowns),
        relevant=relevant,
        others=others,
    )


class UsageWindow(Frozen):
    """One function's usage over a window, from CloudWatch sums."""

    invocations: float | None = None
    duration_sum_ms: float | None = None

    @property
    def average_duration_ms(self) -> float | None:
        if not self.invocations or self.duration_sum_ms is None:
            return None
        return self.duration_sum_ms / self.invocations

    def gb_seconds(self, memory_mb: int) -> float | None:
        if self.duration_sum_ms is None:
            return None
        return self.duration_sum_ms / 1000.0 * memory_mb / 1024.0


def _ratio(after: float | None, before: float | None) -> float | None:
    if after is None or before is None or before <= 0:
        return None
    return after / before


def explain_cost_change(
    before: UsageWindow,
    during: UsageWindow,
    *,
    memory_mb: int,
    last_modified: datetime | None,
    window_start: datetime,
    window_end: datetime,
    significant: float = 1.25,
) -> tuple[str, ...]:
    """What changed for one function between two equal windows, in short phrases.

    ``significant`` is the ratio from which a change in traffic or duration is worth naming.
    """
    reasons: list[str] = []
    traffic = _ratio(during.invocations, before.invocations)
    if traffic is not None and (traffic >= significant or traffic <= 1 / significant):
        reasons.append(
            f"traffic {traffic:.1f}× ({before.invocations:,.0f} → {during.invocations:,.0f} "
            "requests)"
        )
    elif not before.invocations and during.invocations:
        reasons.append(f"new traffic ({during.invocations:,.0f} requests, none before)")
    duration = _ratio(during.average_duration_ms, before.average_duration_ms)
    if duration is not None and (duration >= significant or duration <= 1 / significant):
        reasons.append(
            f"average duration {duration:.1f}× ({before.average_duration_ms:,.0f} → "
            f"{during.average_duration_ms:,.0f} ms)"
        )
    compared_from = window_start - (window_end - window_start)
    if last_modified is not None and compared_from <= last_modified < window_end:
        reasons.append(
            f"deployed or reconfigured {last_modified:%Y-%m-%d %H:%M} UTC (memory now "
            f"{memory_mb} MB)"
        )
    return tuple(reasons)


def describe_effect(
    before: UsageWindow,
    after: UsageWindow,
    *,
    memory_before_mb: int | None = None,
    memory_after_mb: int | None = None,
    minimum_invocations: float = 10,
) -> str:
    """A change's measured effect, comparing equal windows before and since it was applied.

    With the memory sizes (a memory change), compute per invocation is compared in GB-s, which
    is what Lambda bills; otherwise the average duration.
    """
    if (after.invocations or 0) < minimum_invocations:
        return "too early to measure (too few invocations since)"
    if (before.invocations or 0) < minimum_invocations:
        return "no baseline (too few invocations before)"
    parts: list[str] = []
    duration_before, duration_after = before.average_duration_ms, after.average_duration_ms
    if duration_before is not None and duration_after is not None:
        parts.append(f"average duration {duration_before:,.0f} → {duration_after:,.0f} ms")
    if (
        memory_before_mb is not None
        and memory_after_mb is not None
        and duration_before
        and duration_after is not None
    ):
        gbs_before = duration_before / 1000 * memory_before_mb / 1024
        gbs_after = duration_after / 1000 * memory_after_mb / 1024
        change = (gbs_after - gbs_before) / gbs_before
        parts.append(f"compute per invocation {change:+.0%}")
    traffic = _ratio(after.invocations, before.invocations)
    if traffic is not None:
        parts.append(f"traffic {traffic:.2g}×")
    return ", ".join(parts) or "no duration data"

"""The verdict on an applied change: verified, no effect, regression or inconclusive.

Every metric gets the measured change with a 95 % interval (what people read) and a wider
decision interval (99 % by default) that the verdict is called on. A regression needs a
metric's whole decision interval beyond a practical threshold (p99 +10 %, error rate
+0.5 points, ...); a verified saving needs the cost's (or a duration's) whole decision
interval below a minimum effect. Two guards at once keep the false-alarm rate on an unchanged
function well under 5 % although ten metrics are looked at: each metric's decision interval
alone misses 1 % of the time, and a miss must also clear the practical threshold.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from enum import StrEnum

from pydantic import Field

from recommendations.pricing import REFERENCE_REGION, RegionPrices, prices_for
from recommendations.snapshot import Architecture, Frozen
from recommendations.verification.observations import HourlyBucket, span, total_invocations
from recommendations.verification.statistics import (
    bootstrap,
    difference_interval,
    quantile_of_sorted,
    ratio_interval,
    z_value,
)
from recommendations.verification.windows import MIN_INVOCATIONS, MIN_WINDOW

# Fewer cold starts than this on a side and init duration is reported but decides nothing.
MIN_COLD_STARTS = 10


class Verdict(StrEnum):
    VERIFIED = "verified"
    NO_EFFECT = "no_effect"
    REGRESSION = "regression"
    INCONCLUSIVE = "inconclusive"


class InconclusiveReason(StrEnum):
    TOO_LITTLE_TRAFFIC = "too_little_traffic"
    BASELINE_MISSING = "baseline_missing"
    FUNCTION_CHANGED_AGAIN = "function_changed_again"


class Metric(StrEnum):
    COST_PER_INVOCATION = "cost_per_invocation"
    P50 = "p50_ms"
    P90 = "p90_ms"
    P99 = "p99_ms"
    INIT_DURATION = "init_duration_ms"
    ERROR_RATE = "error_rate"
    TIMEOUT_RATE = "timeout_rate"
    THROTTLE_RATE = "throttle_rate"
    OOM_RATE = "oom_rate"
    COLD_START_RATE = "cold_start_rate"


RATIO_METRICS = (Metric.COST_PER_INVOCATION, Metric.P50, Metric.P90, Metric.P99)
RATE_METRICS = (
    Metric.ERROR_RATE,
    Metric.TIMEOUT_RATE,
    Metric.THROTTLE_RATE,
    Metric.OOM_RATE,
    Metric.COLD_START_RATE,
)
# The metrics a speed-up can be verified on (cost has its own minimum).
SPEED_METRICS = (Metric.P50, Metric.P99)


def _default_regression_pct() -> dict[Metric, float]:
    return {
        Metric.COST_PER_INVOCATION: 5.0,
        Metric.P50: 10.0,
        Metric.P90: 10.0,
        Metric.P99: 10.0,
        Metric.INIT_DURATION: 20.0,
    }


def _default_regression_points() -> dict[Metric, float]:
    # Absolute rises in the rate, as fractions (0.005 = half a percentage point).
    return {
        Metric.ERROR_RATE: 0.005,
        Metric.TIMEOUT_RATE: 0.001,
        Metric.THROTTLE_RATE: 0.005,
        Metric.OOM_RATE: 0.001,
        Metric.COLD_START_RATE: 0.05,
    }


class VerificationSettings(Frozen):
    min_invocations: int = Field(default=MIN_INVOCATIONS, ge=1)
    min_window_hours: float = Field(default=MIN_WINDOW.total_seconds() / 3600, ge=0)
    # The interval shown to people, and the stricter one the verdict is called on.
    confidence: float = Field(default=0.95, gt=0, lt=1)
    decision_confidence: float = Field(default=0.99, gt=0, lt=1)
    bootstrap_resamples: int = Field(default=400, ge=50)
    seed: int = 0
    regression_pct: dict[Metric, float] = Field(default_factory=_default_regression_pct)
    regression_points: dict[Metric, float] = Field(default_factory=_default_regression_points)
    # A saving smaller than this (or a speed-up smaller than min_speedup_pct) is no effect.
    min_saving_pct: float = Field(default=2.0, ge=0)
    min_speedup_pct: float = Field(default=5.0, ge=0)
    region: str = REFERENCE_REGION


class MetricChange(Frozen):
    """One metric before and after. Rates are fractions; ``*_pct`` are relative changes in
    percent (None when the before figure is zero); ``ci_low``/``ci_high`` bound after − before
    in the metric's own unit."""

    metric: Metric
    before: float | None
    after: float | None
    change: float | None = None
    change_pct: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_low_pct: float | None = None
    ci_high_pct: float | None = None
    # Whether there was enough data for this metric to take part in the verdict.
    decides: bool = False
    regressed: bool = False
    improved: bool = False


class Verification(Frozen):
    verdict: Verdict
    reason: InconclusiveReason | None = None
    summary: str
    regressions: tuple[Metric, ...] = ()
    improvements: tuple[Metric, ...] = ()
    metrics: dict[Metric, MetricChange] = Field(default_factory=dict)
    before_invocations: int = 0
    after_invocations: int = 0


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100.0


def _bucket_cost_usd(bucket: HourlyBucket, prices: RegionPrices) -> float:
    gb_seconds = bucket.billed_duration_ms_total / 1000.0 * bucket.memory_mb / 1024.0
    return gb_seconds * prices.gb_second[bucket.architecture] + bucket.invocations * prices.request


def _percentiles(buckets: Sequence[HourlyBucket]) -> tuple[float, float, float]:
    """p50, p90 and p99 of the pooled durations; from hourly percentiles (invocation-weighted
    mean) when some hour has no raw durations."""
    if all(b.durations_ms is not None for b in buckets):
        pooled = sorted(d for b in buckets for d in b.durations_ms or ())
        if not pooled:
            return math.nan, math.nan, math.nan
        return tuple(quantile_of_sorted(pooled, q) for q in (0.5, 0.9, 0.99))  # type: ignore[return-value]
    figures: list[float] = []
    for name in ("p50_ms", "p90_ms", "p99_ms"):
        weighted = [(getattr(b, name), b.invocations) for b in buckets]
        known = [(value, weight) for value, weight in weighted if value is not None and weight]
        total = sum(weight for _, weight in known)
        figures.append(sum(v * w for v, w in known) / total if total else math.nan)
    return figures[0], figures[1], figures[2]


def _side_statistics(prices: RegionPrices) -> Callable[[Sequence[HourlyBucket]], list[float]]:
    def statistics(buckets: Sequence[HourlyBucket]) -> list[float]:
        invocations = sum(b.invocations for b in buckets)
        cold = sum(b.cold_starts for b in buckets)
        cost = sum(_bucket_cost_usd(b, prices) for b in buckets)
        init = sum(b.init_duration_ms_total for b in buckets)
        p50, p90, p99 = _percentiles(buckets)
        return [
            cost / invocations if invocations else math.nan,
            p50,
            p90,
            p99,
            init / cold if cold else math.nan,
        ]

    return statistics


_BOOTSTRAPPED = (*RATIO_METRICS, Metric.INIT_DURATION)


def _ratio_metrics(
    before: Sequence[HourlyBucket], after: Sequence[HourlyBucket], settings: VerificationSettings
) -> list[MetricChange]:
    statistics = _side_statistics(prices_for(settings.region))
    rng = random.Random(settings.seed)
    resamples = settings.bootstrap_resamples
    before_replicates = bootstrap(before, statistics, resamples, rng)
    after_replicates = bootstrap(after, statistics, resamples, rng)
    before_point = statistics(before)
    after_point = statistics(after)
    cold_enough = (
        min(sum(b.cold_starts for b in before), sum(b.cold_starts for b in after))
        >= MIN_COLD_STARTS
    )
    changes: list[MetricChange] = []
    for index, metric in enumerate(_BOOTSTRAPPED):
        b, a = before_point[index], after_point[index]
        if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
            changes.append(
                MetricChange(
                    metric=metric,
                    before=b if math.isfinite(b) else None,
                    after=a if math.isfinite(a) else None,
                )
            )
            continue
        shown = ratio_interval(
            before_replicates[index], after_replicates[index], settings.confidence
        )
        decision = ratio_interval(
            before_replicates[index], after_replicates[index], settings.decision_confidence
        )
        decides = decision is not None and (metric is not Metric.INIT_DURATION or cold_enough)
        threshold = settings.regression_pct.get(metric, math.inf) / 100.0
        minimum = (
            settings.min_saving_pct
            if metric is Metric.COST_PER_INVOCATION
            else settings.min_speedup_pct
        ) / 100.0
        regressed = decides and decision is not None and decision[0] > threshold
        improved = (
            decides
            and decision is not None
            and decision[1] < -minimum
            and (metric is Metric.COST_PER_INVOCATION or metric in SPEED_METRICS)
        )
        changes.append(
            MetricChange(
                metric=metric,
                before=b,
                after=a,
                change=a - b,
                change_pct=_pct(a / b - 1),
                ci_low=None if shown is None else shown[0] * b,
                ci_high=None if shown is None else shown[1] * b,
                ci_low_pct=None if shown is None else _pct(shown[0]),
                ci_high_pct=None if shown is None else _pct(shown[1]),
                decides=decides,
                regressed=regressed,
                improved=improved,
            )
        )
    return changes


def _relative_pct(difference: float, before: float) -> float | None:
    # A rate rising from zero has no relative change; its absolute bounds still say how much.
    return difference / before * 100.0 if before > 0 else None


def _rate_counts(metric: Metric, buckets: Sequence[HourlyBucket]) -> tuple[int, int]:
    invocations = total_invocations(buckets)
    if metric is Metric.THROTTLE_RATE:
        throttles = sum(b.throttles for b in buckets)
        return throttles, invocations + throttles
    field = {
        Metric.ERROR_RATE: "errors",
        Metric.TIMEOUT_RATE: "timeouts",
        Metric.OOM_RATE: "out_of_memory",
        Metric.COLD_START_RATE: "cold_starts",
    }[metric]
    return sum(getattr(b, field) for b in buckets), invocations


def _rate_metrics(
    before: Sequence[HourlyBucket], after: Sequence[HourlyBucket], settings: VerificationSettings
) -> list[MetricChange]:
    shown_z = z_value(settings.confidence)
    decision_z = z_value(settings.decision_confidence)
    changes: list[MetricChange] = []
    for metric in RATE_METRICS:
        before_events, before_trials = _rate_counts(metric, before)
        after_events, after_trials = _rate_counts(metric, after)
        if not before_trials or not after_trials:
            changes.append(MetricChange(metric=metric, before=None, after=None))
            continue
        b = before_events / before_trials
        a = after_events / after_trials
        low, high = difference_interval(
            before_events, before_trials, after_events, after_trials, shown_z
        )
        decision_low, _ = difference_interval(
            before_events, before_trials, after_events, after_trials, decision_z
        )
        threshold = settings.regression_points.get(metric, math.inf)
        changes.append(
            MetricChange(
                metric=metric,
                before=b,
                after=a,
                change=a - b,
                change_pct=_relative_pct(a - b, b),
                ci_low=low,
                ci_high=high,
                ci_low_pct=_relative_pct(low, b),
                ci_high_pct=_relative_pct(high, b),
                decides=True,
                regressed=decision_low > threshold,
            )
        )
    return changes


def _inconclusive(
    reason: InconclusiveReason,
    summary: str,
    before: Sequence[HourlyBucket],
    after: Sequence[HourlyBucket],
) -> Verification:
    return Verification(
        verdict=Verdict.INCONCLUSIVE,
        reason=reason,
        summary=summary,
        before_invocations=total_invocations(before),
        after_invocations=total_invocations(after),
    )


def _describe(change: MetricChange) -> str:
    if change.change_pct is not None and change.metric not in RATE_METRICS:
        return f"{change.metric.value} {change.change_pct:+.1f} %"
    return f"{change.metric.value} {100 * (change.change or 0.0):+.2f} points"


def verify(
    before: Sequence[HourlyBucket],
    after: Sequence[HourlyBucket],
    settings: VerificationSettings | None = None,
    expected_after: tuple[int, Architecture] | None = None,
) -> Verification:
    """Compare the window after a change with the (matched) window before it.

    ``expected_after`` is the configuration the change set; traffic at any other one (or at
    more than one) after the change means the function was changed again.
    """
    settings = settings or VerificationSettings()
    after_configs = {b.config for b in after if b.invocations}
    if len(after_configs) > 1 or (
        expected_after is not None and after_configs and after_configs != {expected_after}
    ):
        return _inconclusive(
            InconclusiveReason.FUNCTION_CHANGED_AGAIN,
            "The function's configuration changed again after this change, so its effect "
            "cannot be told apart.",
            before,
            after,
        )
    before_count = total_invocations(before)
    if before_count == 0:
        return _inconclusive(
            InconclusiveReason.BASELINE_MISSING,
            "There is no traffic before the change to compare with.",
            before,
            after,
        )
    needed = settings.min_invocations
    hours = settings.min_window_hours
    for side, buckets in (("after", after), ("before", before)):
        count = total_invocations(buckets)
        covered_hours = span(buckets).total_seconds() / 3600
        if count < needed or covered_hours < hours - 1e-9:
            return _inconclusive(
                InconclusiveReason.TOO_LITTLE_TRAFFIC,
                f"Too little traffic {side} the change: {count} invocations over "
                f"{covered_hours:.0f} h (needs {needed} over {hours:.0f} h).",
                before,
                after,
            )
    changes = [*_ratio_metrics(before, after, settings), *_rate_metrics(before, after, settings)]
    metrics = {c.metric: c for c in changes}
    regressions = tuple(c.metric for c in changes if c.regressed)
    improvements = tuple(c.metric for c in changes if c.improved)
    if regressions:
        verdict = Verdict.REGRESSION
        summary = "Regression: " + ", ".join(_describe(metrics[m]) for m in regressions) + "."
    elif improvements:
        verdict = Verdict.VERIFIED
        summary = "Verified: " + ", ".join(_describe(metrics[m]) for m in improvements) + "."
    else:
        verdict = Verdict.NO_EFFECT
        summary = "No measurable effect: every change is within the noise or below the minimum."
    return Verification(
        verdict=verdict,
        summary=summary,
        regressions=regressions,
        improvements=improvements,
        metrics=metrics,
        before_invocations=before_count,
        after_invocations=total_invocations(after),
    )

"""Why an Invocations alarm fires: a spike against the function's usual traffic."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.diagnoses.base import AlarmSignal, CauseKind, Diagnosis, LikelyCause
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import FunctionSnapshot

# An alarm period with this many times the usual invocations is a spike.
SPIKE_RATIO = 2.0


class TrafficSpike(Diagnosis):
    """A traffic spike against the function's usual invocations.

    What it checks:
    A Sum alarm on Invocations: the alarm's value for its period against the function's average
    invocations per period over the window.

    Why it matters:
    A spike costs in proportion and can reach concurrency limits; it may be a retry loop or a
    misbehaving caller rather than real demand.

    What to do:
    Check who invokes the function (the caller's logs, CloudTrail for direct invocations); put a
    queue in front or reserve concurrency if the spike must be absorbed.
    """

    diagnosis_id = "DX-016"
    name = "Traffic spike"
    kind = CauseKind.TRAFFIC_SPIKE
    addressed_by = (Category.CONCURRENCY,)
    metrics = ("Invocations",)
    needs = ("stats.invocations",)

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        stats = fn.stats
        if (
            stats is None
            or stats.invocations is None
            or signal.observed_value is None
            or not signal.period_s
            or (signal.statistic or "Sum") != "Sum"
        ):
            return None
        usual = stats.invocations / (stats.window_days * 86400.0) * signal.period_s
        if usual <= 0 or signal.observed_value < SPIKE_RATIO * usual:
            return None
        return self.cause(
            f"A traffic spike: {signal.observed_value:,.0f} invocations in {signal.period_s} s "
            f"against a usual {usual:,.1f} ({signal.observed_value / usual:,.1f}×).",
            Confidence.MEDIUM,
            Evidence(label="alarm value", value=signal.observed_value, source="alarm"),
            Evidence(label="usual per period", value=round(usual, 2), source="metrics"),
        )

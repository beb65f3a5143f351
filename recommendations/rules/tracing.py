"""X-Ray active tracing: what the traces a busy function records cost."""

from __future__ import annotations

from recommendations.changes import TracingChange
from recommendations.pricing import (
    SECONDS_PER_MONTH,
    XRAY_FREE_TRACES_PER_MONTH,
    XRAY_USD_PER_TRACE_RECORDED,
)
from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, cents, cost, evidence
from recommendations.snapshot import FunctionSnapshot, TracingMode

# X-Ray's default sampling rule, which Lambda applies to active tracing and which cannot be
# configured per function: the first request each second, then 5 % of the rest.
RESERVOIR_PER_SECOND = 1.0
FIXED_RATE = 0.05
# Below this a month, traces are not worth losing.
TRACING_MIN_MONTHLY_USD = 1.00
COSTLY_MONTHLY_USD = 50.0


def traces_recorded_per_month(invocations_per_month: float) -> float:
    """Traces the default rule records for traffic spread evenly over the month.

    Bursty traffic uses the one-a-second reservoir less and records fewer (down to 5 %).
    """
    reservoir = min(invocations_per_month, RESERVOIR_PER_SECOND * SECONDS_PER_MONTH)
    return reservoir + FIXED_RATE * (invocations_per_month - reservoir)


class ActiveTracingAtHighVolume(Rule):
    """X-Ray active tracing on a function whose traces cost more than $1 a month.

    What it checks:
    Functions with active tracing, and the traces X-Ray records for them a month at $5.00 per
    million. Lambda samples with X-Ray's default rule (the first request each second, then
    5 % of the rest); the estimate assumes traffic spread evenly over the month, and its range
    runs from 5 % of invocations (bursty traffic; the account's 100,000 free traces a month
    taken off) to every invocation. The free traces are shared by the whole account, so the
    expected figure does not subtract them.

    Why it matters:
    Active tracing is meant for debugging. Left on for a busy function it records millions of
    traces a month that nobody reads, and the sampling rate Lambda uses cannot be lowered for
    the function.

    What to do:
    Switch tracing to PassThrough. The function still joins traces its callers sampled, so to
    keep a small sample (1 %, say), sample at the caller (API Gateway stage tracing follows
    X-Ray sampling rules) or in the code with the X-Ray or OpenTelemetry SDK.
    """

    rule_id = "TRC-001"
    name = "Active tracing at high volume"
    category = Category.TRACING
    needs = ("tracing_mode", "stats.invocations")
    proposes = TracingChange
    iam_actions = TracingChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.tracing_mode is None:
            return self.unknown("the tracing mode is unknown")
        if fn.tracing_mode is TracingMode.PASS_THROUGH:
            return self.passed("active tracing is off (PassThrough)")
        stats = fn.stats
        per_month = stats.invocations_per_month if stats else None
        if per_month is None:
            return self.unknown("the number of invocations is unknown")
        traces = traces_recorded_per_month(per_month)
        expected = traces * XRAY_USD_PER_TRACE_RECORDED
        if expected < TRACING_MIN_MONTHLY_USD:
            return self.passed(f"about {traces:,.0f} traces a month (${cents(expected):,.2f})")
        low = max(0.0, FIXED_RATE * per_month - XRAY_FREE_TRACES_PER_MONTH)
        facts = [
            evidence("Invocations", round(per_month), "a month", "metrics"),
            evidence("Traces recorded (estimate)", round(traces), "a month"),
            evidence("Trace cost (estimate)", cents(expected), "USD a month"),
        ]
        lambda_cost = cost(fn, context.now)
        if lambda_cost is not None:
            facts.append(evidence("Lambda cost", cents(lambda_cost.total_usd), "USD a month"))
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM if expected >= COSTLY_MONTHLY_USD else Severity.LOW,
                title=f"Turn off active tracing: ~${cents(expected):,.2f} a month of traces",
                rationale=(
                    f"{fn.name} runs {per_month:,.0f} times a month with X-Ray active tracing, "
                    f"which records about {traces:,.0f} traces (${cents(expected):,.2f} a month "
                    "at $5.00 per million). PassThrough stops the function from starting traces "
                    "of its own; requests its callers sampled are still traced."
                ),
                confidence=Confidence.MEDIUM,
                evidence=facts,
                change=TracingChange(
                    function_name=fn.name,
                    before=TracingMode.ACTIVE,
                    after=TracingMode.PASS_THROUGH,
                ),
                savings=expected,
                savings_low=min(expected, low * XRAY_USD_PER_TRACE_RECORDED),
                savings_high=per_month * XRAY_USD_PER_TRACE_RECORDED,
                risk=Risk.LOW,
                notes=(
                    "Assumes X-Ray's default sampling (the first request each second, then 5 %) "
                    "and traffic spread evenly over the month; retrieving and scanning traces "
                    "is billed apart and not counted.",
                    "Lambda's sampling rate cannot be configured for a function. To keep a 1 % "
                    "sample, switch to PassThrough and sample at the caller (API Gateway stage "
                    "tracing follows X-Ray sampling rules) or in the code with the X-Ray or "
                    "OpenTelemetry SDK.",
                ),
            )
        )

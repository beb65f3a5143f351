"""Failing invocations: the compute they waste, and downstream throttling that retries in a loop."""

from __future__ import annotations

from recommendations.error_types import is_downstream_throttling
from recommendations.pricing import average_billed_duration_ms, invocation_cost, prices_for
from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, cents, evidence, percent
from recommendations.snapshot import DAYS_PER_MONTH, ErrorTypeCount, FunctionSnapshot

# ERR-001: Datadog's serverless warnings flag an error rate above 1% and call one above 10%
# high; Trusted Advisor's "high error rates" check uses the same 10% and prices the lost
# compute.
ERROR_RATE_THRESHOLD = 0.01
HIGH_ERROR_RATE = 0.10

# ERR-002: this many log lines naming a throttling error make a pattern, not a blip...
MIN_THROTTLING_LINES = 5
# ...and throttling on this share of invocations is a HIGH one.
HIGH_THROTTLING_SHARE = 0.05


def describe_error_types(types: tuple[ErrorTypeCount, ...]) -> str:
    return ", ".join(f"{item.name} × {item.count:,}" for item in types)


class ErrorsWasteCompute(Rule):
    """Invocations that fail, priced as the compute they waste.

    What it checks:
    The share of invocations that ended in an error (CloudWatch Errors over Invocations for
    the window). Above 1% it recommends, above 10% urgently. It prices the failed invocations
    a month: timed-out ones (from the REPORT lines' share of timeouts) at the full timeout,
    the others at the function's average billed duration, since Lambda does not say how long
    failing invocations ran; plus their requests. The most frequent error types in the logs
    are shown when the scan read them.

    Why it matters:
    A failed invocation is billed like a successful one and delivers nothing; async and
    stream invocations are retried, which bills the same failure two or more times. Trusted
    Advisor reports the same as "lost compute cost" for error rates above 10%.

    What to do:
    Fix the most frequent error type first (the evidence lists them). Validate input before
    doing expensive work, fail fast on errors that a retry cannot fix, and send events that
    keep failing to a dead-letter queue or on-failure destination instead of retrying them.
    """

    rule_id = "ERR-001"
    name = "Errors as wasted compute"
    category = Category.ERRORS
    needs = (
        "stats.errors",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
        "stats.duration_avg_ms",
        "stats.timeouts",
        "stats.log_sample_invocations",
        "stats.top_error_types",
        "timeout_s",
    )

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None or stats.errors is None or stats.invocations is None:
            return self.unknown("errors or invocations are unknown")
        if stats.invocations == 0:
            return self.not_applicable("no invocations in the window")
        rate = stats.error_rate or 0.0
        if rate <= ERROR_RATE_THRESHOLD:
            return self.passed(f"{percent(rate)}% of invocations failed")
        average = average_billed_duration_ms(fn, context.now)
        if average is None:
            return self.unknown("the duration is unknown, so the failures cannot be priced")
        failed_per_month = min(stats.errors, stats.invocations) / stats.window_days * DAYS_PER_MONTH
        per_month = stats.invocations_per_month or 0.0
        # Timeouts are errors billed at the whole timeout; the REPORT lines say how many.
        timed_out = min(failed_per_month, (stats.timeout_rate or 0.0) * per_month)
        prices = prices_for(fn.region)

        def priced(billed_ms: float) -> float:
            return invocation_cost(
                billed_ms, fn.memory_mb, fn.architecture, prices, fn.ephemeral_storage_mb
            )

        wasted = (failed_per_month - timed_out) * priced(average) + timed_out * priced(
            fn.timeout_s * 1000.0
        )
        facts = [
            evidence("Errors", stats.errors, "", "metrics"),
            evidence("Error rate", percent(rate), "% of invocations", "metrics"),
            evidence("Failed invocations a month", round(failed_per_month), "", "derived"),
            evidence(
                "Billed duration assumed per failure",
                round(average, 1),
                "ms (the average invocation)",
                "assumption",
            ),
        ]
        if timed_out:
            facts.append(
                evidence(
                    "Timed out a month", round(timed_out), f"billed {fn.timeout_s} s each", "logs"
                )
            )
        facts.append(
            evidence("Cost of failed invocations", cents(wasted), "USD a month", "derived")
        )
        types = stats.top_error_types
        facts.append(
            evidence(
                "Top error types",
                describe_error_types(types)
                if types
                else ("none named in the log lines" if types == () else "not read from the logs"),
                "log lines" if types else "",
                "logs",
            )
        )
        severity = Severity.HIGH if rate > HIGH_ERROR_RATE else Severity.MEDIUM
        first = f" The most frequent error is {types[0].name}." if types else ""
        return self.recommend(
            build(
                self,
                fn,
                severity=severity,
                title=(
                    f"{percent(rate)}% of invocations fail, wasting ${cents(wasted):,.2f} a month"
                ),
                rationale=(
                    f"{percent(rate)}% of {fn.name}'s invocations ended in an error: about "
                    f"{failed_per_month:,.0f} a month, billed about ${cents(wasted):,.2f} for "
                    f"work that delivered nothing.{first} Fix the most frequent error first, "
                    "and stop retrying events a retry cannot fix."
                ),
                confidence=Confidence.MEDIUM,
                evidence=facts,
                risk=Risk.LOW,
                notes=(
                    "Lambda does not report how long failing invocations ran: they are priced "
                    "at the average billed duration (timeouts at the full timeout).",
                ),
            )
        )


class DownstreamRetryStorm(Rule):
    """A downstream service throttles the function, and it keeps calling.

    What it checks:
    Error types in the function's log lines that mean a service it called said "slow down":
    ThrottlingException, TooManyRequestsException, ProvisionedThroughputExceededException,
    Rate exceeded, HTTP 429 and the like. Five or more such lines recommend; on 5% or more of
    the invocations the logs cover, urgently. The error types must have been read from the
    logs (the scan reads them for functions with errors); a function without a single failed
    invocation passes.

    Why it matters:
    Throttling means the downstream is at its limit. Retrying at once, or with a fixed delay,
    from many concurrent invocations keeps it there: every retry is billed Lambda time spent
    waiting, the calls keep failing, and the failures are retried again (a retry storm).

    What to do:
    Retry with exponential backoff and jitter, and cap the attempts: the AWS SDKs do it with
    their standard or adaptive retry mode (boto3 ``Config(retries={"mode": "adaptive"})``,
    the JavaScript SDK's ``maxAttempts``/``retryMode``). Limit how many invocations hit the
    downstream at once (reserved concurrency, or the SQS trigger's maximum concurrency), batch
    writes, and raise the downstream's capacity (DynamoDB on-demand, more Kinesis shards, a
    higher API quota) if the load is legitimate.
    """

    rule_id = "ERR-002"
    name = "Retry storm against a throttling downstream"
    category = Category.ERRORS
    needs = (
        "stats.top_error_types",
        "stats.log_sample_invocations",
        "stats.errors",
    )

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None:
            return self.unknown("no statistics")
        types = stats.top_error_types
        if types is None:
            if stats.errors == 0:
                return self.passed("no invocation failed in the window")
            return self.unknown("the error types in the logs were not read")
        throttling = tuple(item for item in types if is_downstream_throttling(item.name))
        lines = sum(item.count for item in throttling)
        if lines < MIN_THROTTLING_LINES:
            return self.passed(f"{lines} log lines name a throttling error")
        sample = stats.log_sample_invocations
        share = min(1.0, lines / sample) if sample else None
        facts = [
            evidence(
                "Throttling errors in the logs", describe_error_types(throttling), "lines", "logs"
            ),
            evidence("Throttling lines", lines, "", "logs"),
        ]
        if share is not None and sample is not None:
            facts.append(
                evidence(
                    "Share of invocations",
                    percent(share),
                    f"% of {sample:,} in the logs read",
                    "logs",
                )
            )
        if stats.errors is not None:
            facts.append(evidence("Errors", stats.errors, "", "metrics"))
        urgent = share is not None and share >= HIGH_THROTTLING_SHARE
        severity = Severity.HIGH if urgent else Severity.MEDIUM
        named = ", ".join(item.name for item in throttling)
        return self.recommend(
            build(
                self,
                fn,
                severity=severity,
                title=f"Back off with jitter: {lines:,} throttling errors from a downstream",
                rationale=(
                    f"{fn.name}'s logs name {lines:,} throttling errors ({named})"
                    + (f", on about {percent(share)}% of its invocations" if share else "")
                    + ". A service it calls is at its limit, and retrying at once from many "
                    "concurrent invocations keeps it there. Retry with exponential backoff and "
                    "jitter, cap the attempts, and limit how many invocations call it at once."
                ),
                confidence=Confidence.MEDIUM,
                evidence=facts,
                risk=Risk.LOW,
                notes=(
                    "Counted from log lines: an SDK that retried and then succeeded may have "
                    "logged nothing, so the real number of throttled calls can be higher.",
                ),
            )
        )

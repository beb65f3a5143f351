"""Function timeouts: hitting them, too close to them, far above need, breaking constraints."""

from __future__ import annotations

import math

from recommendations.changes import TimeoutChange
from recommendations.pricing import prices_for
from recommendations.recommendation import (
    Category,
    Confidence,
    Evidence,
    Risk,
    Severity,
    TradeOff,
)
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import (
    build,
    cost,
    evidence,
    percent,
    percentiles_source,
    report_lines_off,
)
from recommendations.snapshot import (
    MAX_TIMEOUT_S,
    EventSourceKind,
    FunctionSnapshot,
    InvokeSource,
)

# API Gateway stops waiting for a Lambda integration after 29 s (REST APIs' default limit).
API_GATEWAY_INTEGRATION_LIMIT_S = 29
# AWS asks for an SQS visibility timeout of at least six times the function timeout.
SQS_VISIBILITY_MULTIPLIER = 6

# TMO-001: how much to raise a timeout that is being hit.
TIMEOUT_GROWTH = 2.0
# A timeout rate at or above this is a HIGH severity problem.
HIGH_TIMEOUT_RATE = 0.01

# TMO-002: the slowest invocations at or above this share of the timeout leave thin headroom.
THIN_HEADROOM_RATIO = 0.8
# Headroom to restore over the slowest observed invocation.
HEADROOM_FACTOR = 1.5

# TMO-003: a timeout this many times the slowest invocation is far above need...
FAR_ABOVE_FACTOR = 10.0
# ...and is cut to this many times the slowest invocation, never below MIN_PROPOSED_TIMEOUT_S,
SAFE_TIMEOUT_FACTOR = 3.0
MIN_PROPOSED_TIMEOUT_S = 3
# ...when that removes at least this much.
MIN_REDUCTION_S = 10
# Invocations needed before the slowest one seen is a fair guide.
MIN_INVOCATIONS_FOR_MAX = 100

# TMO-004: margin over the slowest invocation when lowering a timeout to meet a constraint.
CONSTRAINT_MARGIN = 1.2


def timeout_ceiling(fn: FunctionSnapshot) -> tuple[int, str]:
    """The largest timeout the function's callers allow, and who sets it."""
    ceiling, reason = MAX_TIMEOUT_S, "Lambda's 900 s maximum"
    if fn.invoked_by and InvokeSource.API_GATEWAY in fn.invoked_by:
        ceiling = API_GATEWAY_INTEGRATION_LIMIT_S
        reason = f"API Gateway's {API_GATEWAY_INTEGRATION_LIMIT_S} s integration limit"
    for mapping in fn.event_source_mappings:
        visibility = mapping.queue_visibility_timeout_s
        if mapping.kind is EventSourceKind.SQS and visibility is not None:
            allowed = visibility // SQS_VISIBILITY_MULTIPLIER
            if allowed < ceiling:
                queue = mapping.source_arn.rsplit(":", 1)[-1]
                ceiling = allowed
                reason = f"the {queue} queue's {visibility} s visibility timeout (≥ 6 × timeout)"
    return max(1, ceiling), reason


def _slowest_ms(fn: FunctionSnapshot) -> float | None:
    stats = fn.stats
    if stats is None:
        return None
    known = [v for v in (stats.duration_p99_ms, stats.duration_max_ms) if v is not None]
    return max(known) if known else None


def _slowest_source(fn: FunctionSnapshot) -> str:
    """The maximum always comes from CloudWatch; the p99 may have come from REPORT lines."""
    assert fn.stats is not None
    if fn.stats.duration_max_ms is not None and fn.stats.duration_max_ms == _slowest_ms(fn):
        return "metrics"
    return percentiles_source(fn.stats)


class TimeoutsHappening(Rule):
    """Invocations that run into the function timeout.

    What it checks:
    Timeouts in the sampled REPORT lines. It proposes doubling the timeout, within what the
    callers allow (API Gateway's 29 s, an SQS queue's visibility timeout / 6, Lambda's 900 s).

    Why it matters:
    A timed-out invocation fails after being billed for the whole timeout, and its work is
    retried or lost. If the work is merely slow, a longer timeout lets it finish. If it is
    stuck on a call that never answers, a longer timeout only costs more: give that call its
    own, shorter timeout instead.

    What to do:
    Check what the timed-out invocations were waiting for (their logs or traces), then apply
    the longer timeout or fix the stuck call. The extra cost shown is the worst case, where
    every timed-out invocation runs to the new limit.
    """

    rule_id = "TMO-001"
    name = "Timeouts happening"
    category = Category.TIMEOUT
    needs = (
        "timeout_s",
        "stats.timeouts",
        "stats.log_sample_invocations",
        "stats.invocations",
        "invoked_by",
        "event_source_mappings[].queue_visibility_timeout_s",
    )
    proposes = TimeoutChange
    iam_actions = TimeoutChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None or stats.timeouts is None:
            return self.unknown(
                report_lines_off(fn) or "timeouts are unknown (no REPORT log lines)"
            )
        if stats.timeouts == 0:
            return self.passed("no timeouts in the sampled invocations")
        rate = stats.timeout_rate
        ceiling, limited_by = timeout_ceiling(fn)
        proposed = min(ceiling, math.ceil(fn.timeout_s * TIMEOUT_GROWTH))
        facts = [
            evidence("Timeout", fn.timeout_s, "s", "configuration"),
            evidence("Timed-out invocations", stats.timeouts, "", "REPORT log lines"),
        ]
        if rate is not None:
            facts.append(evidence("Timeout rate", percent(rate), "%", "REPORT log lines"))
        severity = Severity.HIGH if rate is None or rate >= HIGH_TIMEOUT_RATE else Severity.MEDIUM
        title = f"{stats.timeouts} invocations hit the {fn.timeout_s} s timeout"
        if proposed <= fn.timeout_s:
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=severity,
                    title=title,
                    rationale=(
                        f"{fn.name} times out, and its timeout cannot grow past {ceiling} s "
                        f"because of {limited_by}. Make the work faster, give slow downstream "
                        "calls their own shorter timeouts, or move the work behind a queue."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=facts,
                )
            )
        before = cost(fn, context.now)
        extra = None
        per_month = stats.invocations_per_month
        if before is not None and rate is not None and per_month is not None:
            # Worst case: every timed-out invocation now runs to the new limit.
            extra_gb_s = rate * per_month * (proposed - fn.timeout_s) * fn.memory_mb / 1024.0
            extra = extra_gb_s * prices_for(fn.region).gb_second[fn.architecture]
        return self.recommend(
            build(
                self,
                fn,
                severity=severity,
                title=title + f"; raise it to {proposed} s",
                rationale=(
                    f"{fn.name} ran into its {fn.timeout_s} s timeout {stats.timeouts} times in "
                    f"the sample. If the work is slow rather than stuck, {proposed} s lets it "
                    f"finish (the callers allow up to {ceiling} s: {limited_by}). If it waits "
                    "on a call that never answers, fix that call instead."
                ),
                confidence=Confidence.MEDIUM,
                evidence=facts,
                change=TimeoutChange(function_name=fn.name, before=fn.timeout_s, after=proposed),
                cost_before=before.total_usd if before else None,
                cost_after=before.total_usd + extra if before and extra is not None else None,
                savings=-extra if extra is not None else None,
                trade_off=TradeOff.SAFETY,
                risk=Risk.LOW,
                notes=("The extra cost assumes every timed-out invocation runs to the new limit.",),
            )
        )


class ThinTimeoutHeadroom(Rule):
    """The slowest invocations come close to the timeout.

    What it checks:
    The p99 and maximum duration against the timeout, when no invocation timed out. At 80% of
    the timeout or more, it proposes 1.5× the slowest invocation, within what the callers
    allow.

    Why it matters:
    A small slowdown downstream (a cold database connection, a retry) turns these invocations
    into timeouts: failed work that is billed in full.

    What to do:
    Apply the longer timeout; it costs nothing while invocations finish in time. If the
    callers' limit leaves no room, make the slow path faster.
    """

    rule_id = "TMO-002"
    name = "Thin timeout headroom"
    category = Category.TIMEOUT
    needs = (
        "timeout_s",
        "stats.duration_p99_ms",
        "stats.duration_max_ms",
        "stats.timeouts",
        "invoked_by",
        "event_source_mappings[].queue_visibility_timeout_s",
    )
    proposes = TimeoutChange
    iam_actions = TimeoutChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        slowest = _slowest_ms(fn)
        if slowest is None:
            off = report_lines_off(fn)
            return self.unknown(
                "p99 and maximum duration are unknown" + (f"; {off}" if off else "")
            )
        assert fn.stats is not None  # a duration is known
        if fn.stats.timeouts:
            return self.passed("invocations already time out (see TMO-001)")
        ratio = slowest / (fn.timeout_s * 1000.0)
        if ratio < THIN_HEADROOM_RATIO:
            return self.passed(f"the slowest invocation uses {percent(ratio)}% of the timeout")
        ceiling, limited_by = timeout_ceiling(fn)
        wanted = max(fn.timeout_s + 1, math.ceil(slowest * HEADROOM_FACTOR / 1000.0))
        proposed = min(ceiling, MAX_TIMEOUT_S, wanted)
        facts = [
            evidence("Timeout", fn.timeout_s, "s", "configuration"),
            evidence("Slowest invocation (p99/max)", round(slowest, 1), "ms", _slowest_source(fn)),
            evidence("Share of timeout", percent(ratio), "%", "derived"),
        ]
        before = cost(fn, context.now)
        if proposed <= fn.timeout_s:
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=Severity.MEDIUM,
                    title=f"Slowest invocations use {percent(ratio)}% of the timeout",
                    rationale=(
                        f"{fn.name}'s slowest invocations take {slowest:,.0f} ms of its "
                        f"{fn.timeout_s} s timeout, which cannot grow because of {limited_by}. "
                        "Make the slow path faster or move the work behind a queue."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=facts,
                )
            )
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM,
                title=f"Raise the timeout from {fn.timeout_s} s to {proposed} s",
                rationale=(
                    f"{fn.name}'s slowest invocations take {slowest:,.0f} ms, "
                    f"{percent(ratio)}% of its {fn.timeout_s} s timeout. {proposed} s restores "
                    "headroom; it costs nothing while invocations finish in time."
                ),
                confidence=Confidence.HIGH,
                evidence=facts,
                change=TimeoutChange(function_name=fn.name, before=fn.timeout_s, after=proposed),
                cost_before=before.total_usd if before else None,
                cost_after=before.total_usd if before else None,
                savings=0.0 if before else None,
                risk=Risk.LOW,
            )
        )


class TimeoutFarAboveNeed(Rule):
    """A timeout far longer than the function ever runs (900 s for a 200 ms function).

    What it checks:
    The maximum duration over at least 100 invocations against the timeout. When the timeout is
    10× the slowest invocation or more, it proposes 3× the slowest invocation (at least 3 s),
    if that removes 10 s or more.

    Why it matters:
    When a downstream call hangs, the invocation waits, and is billed, until the timeout. A
    tight timeout fails fast, frees concurrency for healthy requests, and caps the bill of a
    stuck invocation. A lower timeout also relaxes the SQS rule (visibility ≥ 6 × timeout).

    What to do:
    Apply the shorter timeout. Raise it again (undo) if a legitimately slow path appears.
    """

    rule_id = "TMO-003"
    name = "Timeout far above need"
    category = Category.TIMEOUT
    needs = ("timeout_s", "memory_mb", "stats.duration_max_ms", "stats.invocations")
    proposes = TimeoutChange
    iam_actions = TimeoutChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None or stats.duration_max_ms is None:
            return self.unknown("the maximum duration is unknown")
        if stats.invocations is None:
            return self.unknown("the number of invocations is unknown")
        if stats.invocations < MIN_INVOCATIONS_FOR_MAX:
            return self.unknown(
                f"only {stats.invocations} invocations; need {MIN_INVOCATIONS_FOR_MAX} "
                "before the slowest one is a fair guide"
            )
        if stats.timeouts:
            return self.passed("invocations time out (see TMO-001)")
        slowest_s = stats.duration_max_ms / 1000.0
        proposed = max(MIN_PROPOSED_TIMEOUT_S, math.ceil(slowest_s * SAFE_TIMEOUT_FACTOR))
        if fn.timeout_s < FAR_ABOVE_FACTOR * slowest_s or fn.timeout_s - proposed < MIN_REDUCTION_S:
            return self.passed(f"the timeout is {fn.timeout_s} s for a {slowest_s:,.2f} s maximum")
        before = cost(fn, context.now)
        gb = fn.memory_mb / 1024.0
        facts: list[Evidence] = [
            evidence("Timeout", fn.timeout_s, "s", "configuration"),
            evidence("Max duration", round(stats.duration_max_ms, 1), "ms", "metrics"),
            evidence("Invocations observed", stats.invocations, "", "metrics"),
            evidence("Billed per stuck invocation", round(fn.timeout_s * gb, 1), "GB-s", "derived"),
        ]
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.LOW,
                title=f"Lower the timeout from {fn.timeout_s} s to {proposed} s",
                rationale=(
                    f"{fn.name} never ran longer than {slowest_s:,.2f} s in "
                    f"{stats.invocations:,} invocations, yet may run {fn.timeout_s} s before it "
                    f"is stopped. {proposed} s (3× the slowest) fails stuck invocations fast "
                    "and caps what each one bills."
                ),
                confidence=Confidence.HIGH if stats.invocations >= 1000 else Confidence.MEDIUM,
                evidence=facts,
                change=TimeoutChange(function_name=fn.name, before=fn.timeout_s, after=proposed),
                cost_before=before.total_usd if before else None,
                cost_after=before.total_usd if before else None,
                savings=0.0 if before else None,
                risk=Risk.LOW,
            )
        )


class TimeoutBreaksConstraint(Rule):
    """A timeout that its callers cannot honour: API Gateway's 29 s, SQS visibility ≥ 6 × timeout.

    What it checks:
    Functions invoked by API Gateway with a timeout above 29 s, and SQS-triggered functions
    whose queue's visibility timeout is under six times the function timeout. When the slowest
    invocation allows it (with 20% margin), it proposes lowering the timeout to fit.

    Why it matters:
    API Gateway answers 504 after 29 s while the function keeps running and billing for a
    response nobody receives. With a visibility timeout shorter than six times the function
    timeout, SQS can hand a message that is still being processed to another invocation, and
    the work runs twice.

    What to do:
    Apply the lower timeout when offered. Otherwise the advice fits the caller that has the
    problem: for a queue, raise its visibility timeout to at least six times the function
    timeout; for API Gateway, make the API asynchronous (answer 202 and do the work behind a
    queue).
    """

    rule_id = "TMO-004"
    name = "Timeout breaks a caller's limit"
    category = Category.TIMEOUT
    needs = (
        "timeout_s",
        "invoked_by",
        "event_source_mappings[].queue_visibility_timeout_s",
        "stats.duration_max_ms",
    )
    proposes = TimeoutChange
    iam_actions = TimeoutChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        problems: list[str] = []
        facts = [evidence("Timeout", fn.timeout_s, "s", "configuration")]
        unknown: list[str] = []
        # What to advise when the timeout cannot come down, for the callers that have a problem.
        fallback: list[str] = []
        severity = Severity.MEDIUM
        if fn.invoked_by is None:
            unknown.append("who invokes the function is unknown")
        elif (
            InvokeSource.API_GATEWAY in fn.invoked_by
            and fn.timeout_s > API_GATEWAY_INTEGRATION_LIMIT_S
        ):
            problems.append(
                f"API Gateway gives up after {API_GATEWAY_INTEGRATION_LIMIT_S} s but the "
                f"function may run {fn.timeout_s} s"
            )
            facts.append(evidence("API Gateway limit", API_GATEWAY_INTEGRATION_LIMIT_S, "s"))
            fallback.append(
                "make the API asynchronous (accept the request, answer 202 and do the work "
                "behind a queue)"
            )
        for mapping in fn.event_source_mappings:
            if mapping.kind is not EventSourceKind.SQS:
                continue
            queue = mapping.source_arn.rsplit(":", 1)[-1]
            visibility = mapping.queue_visibility_timeout_s
            if visibility is None:
                unknown.append(f"the visibility timeout of {queue} is unknown")
            elif visibility < SQS_VISIBILITY_MULTIPLIER * fn.timeout_s:
                severity = Severity.HIGH
                problems.append(
                    f"queue {queue} has a {visibility} s visibility timeout, under 6 × "
                    f"{fn.timeout_s} s = {SQS_VISIBILITY_MULTIPLIER * fn.timeout_s} s"
                )
                facts.append(evidence(f"Visibility timeout of {queue}", visibility, "s", "SQS"))
                fallback.append(
                    f"raise the visibility timeout of queue {queue} to at least "
                    f"{SQS_VISIBILITY_MULTIPLIER * fn.timeout_s} s"
                )
        if not problems:
            if unknown:
                return self.unknown("; ".join(unknown))
            return self.passed("the timeout fits every caller's limit")
        ceiling, limited_by = timeout_ceiling(fn)
        slowest = _slowest_ms(fn)
        rationale = f"{fn.name}: " + "; ".join(problems) + "."
        change = None
        # A ceiling at or above today's timeout (a queue whose visibility timeout is under 6 s)
        # cannot be met by lowering the timeout; only the queue can change.
        fits = slowest is not None and math.ceil(slowest * CONSTRAINT_MARGIN / 1000.0) <= ceiling
        if slowest is not None and fits and ceiling < fn.timeout_s:
            facts.append(evidence("Slowest invocation (p99/max)", round(slowest, 1), "ms"))
            change = TimeoutChange(function_name=fn.name, before=fn.timeout_s, after=ceiling)
            rationale += (
                f" Its slowest invocation takes {slowest:,.0f} ms, so a {ceiling} s timeout "
                f"fits {limited_by}."
            )
            title = f"Lower the timeout from {fn.timeout_s} s to {ceiling} s for its callers"
        else:
            rationale += (
                " The function needs its time (or its durations are unknown): "
                + "; ".join(fallback)
                + "."
            )
            title = "The timeout does not fit its callers' limits"
        before = cost(fn, context.now)
        return self.recommend(
            build(
                self,
                fn,
                severity=severity,
                title=title,
                rationale=rationale,
                confidence=Confidence.HIGH,
                evidence=facts,
                change=change,
                cost_before=before.total_usd if before and change else None,
                cost_after=before.total_usd if before and change else None,
                savings=0.0 if before and change else None,
                risk=Risk.LOW,
            )
        )

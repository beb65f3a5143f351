"""Concurrency: throttling, and provisioned concurrency that sits idle."""

from __future__ import annotations

import math

from recommendations.changes import ProvisionedConcurrencyChange, ReservedConcurrencyChange
from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, cost, evidence, percent
from recommendations.snapshot import FunctionSnapshot

# CONC-001: throttled requests at or above this share of all requests are a problem...
THROTTLE_RATE_THRESHOLD = 0.005
# ...and at or above this share, a HIGH one.
HIGH_THROTTLE_RATE = 0.05
# How much to raise a reserved concurrency limit that throttles.
RESERVED_GROWTH = 1.5

# CONC-002: provisioned concurrency is paid for whether used or not; under about 60% average
# utilisation on-demand invocations would cost less.
IDLE_UTILISATION = 0.6
# Size provisioned concurrency so the observed peak uses this share of it.
PEAK_TARGET_UTILISATION = 0.9


class Throttling(Rule):
    """Requests throttled for lack of concurrency.

    What it checks:
    Throttles against all requests (invocations plus throttles). At 0.5% or more: with a
    reserved concurrency limit it proposes 50% more; without one the account's concurrency
    pool is exhausted, which needs a quota increase or limits on other functions.

    Why it matters:
    A throttled synchronous request fails with HTTP 429. Async events and stream records are
    retried, but wait, age and may be dropped.

    What to do:
    Apply the higher reserved concurrency if the downstream systems can take the extra load
    (a limit is often there on purpose, to protect a database). Otherwise smooth the load with
    a queue, or ask AWS for a higher account concurrency quota.
    """

    rule_id = "CONC-001"
    name = "Throttling"
    category = Category.CONCURRENCY
    needs = (
        "stats.throttles",
        "stats.invocations",
        "reserved_concurrency",
        "stats.concurrent_executions_max",
    )
    proposes = ReservedConcurrencyChange
    iam_actions = ReservedConcurrencyChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None or stats.throttles is None or stats.invocations is None:
            return self.unknown("throttles or invocations are unknown")
        if fn.reserved_concurrency == 0:
            return self.not_applicable("reserved concurrency 0: the function is switched off")
        requests = stats.invocations + stats.throttles
        rate = stats.throttles / requests if requests else 0.0
        if rate < THROTTLE_RATE_THRESHOLD:
            return self.passed(f"{percent(rate)}% of requests were throttled")
        facts = [
            evidence("Throttles", stats.throttles, "", "metrics"),
            evidence("Throttle rate", percent(rate), "%", "metrics"),
        ]
        if stats.concurrent_executions_max is not None:
            facts.append(
                evidence("Peak concurrency", round(stats.concurrent_executions_max), "", "metrics")
            )
        severity = Severity.HIGH if rate >= HIGH_THROTTLE_RATE else Severity.MEDIUM
        reserved = fn.reserved_concurrency
        if reserved is None:
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=severity,
                    title=f"{percent(rate)}% of requests throttled by the account limit",
                    rationale=(
                        f"{fn.name} has no reserved concurrency, so it shares the account's "
                        "concurrency pool, and the pool ran out. Ask AWS for a higher quota, "
                        "cap the functions that crowd it out, or put a queue in front."
                    ),
                    confidence=Confidence.HIGH,
                    evidence=facts,
                    risk=Risk.LOW,
                )
            )
        proposed = max(reserved + 1, math.ceil(reserved * RESERVED_GROWTH))
        facts.append(evidence("Reserved concurrency", reserved, "", "configuration"))
        return self.recommend(
            build(
                self,
                fn,
                severity=severity,
                title=f"Raise reserved concurrency from {reserved} to {proposed}",
                rationale=(
                    f"{percent(rate)}% of requests to {fn.name} were throttled at its reserved "
                    f"concurrency of {reserved}. {proposed} gives it room, if the systems it "
                    "calls can take the extra load."
                ),
                confidence=Confidence.HIGH,
                evidence=facts,
                change=ReservedConcurrencyChange(
                    function_name=fn.name, before=reserved, after=proposed
                ),
                risk=Risk.MEDIUM,
                notes=(
                    "Reserved concurrency is taken from the account pool; other functions get "
                    "less.",
                ),
            )
        )


class IdleProvisionedConcurrency(Rule):
    """Provisioned concurrency that is mostly idle.

    What it checks:
    Average provisioned-concurrency utilisation under 60%. With provisioned concurrency on one
    alias or version it proposes the level at which the observed peak would use 90% of it
    (zero removes it), compared with and applied to that qualifier's configured (requested)
    value. On several qualifiers the utilisation tunebot reads is the function's as a whole,
    which does not say which alias is idle, so it advises without a change.

    Why it matters:
    Provisioned environments are billed every second whether they serve requests or not. Below
    about 60% average utilisation the same traffic would cost less on demand.

    What to do:
    Apply the smaller level, or scale it on a schedule (Application Auto Scaling) if the peaks
    are predictable. Requests above the new level start cold.
    """

    rule_id = "CONC-002"
    name = "Idle provisioned concurrency"
    category = Category.CONCURRENCY
    needs = (
        "provisioned_concurrency",
        "provisioned_concurrency_configs",
        "stats.provisioned_concurrency_utilization_avg",
        "stats.provisioned_concurrency_utilization_max",
        "stats.invocations",
    )
    proposes = ProvisionedConcurrencyChange
    iam_actions = ProvisionedConcurrencyChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        total = fn.provisioned_concurrency
        if not total:
            return self.not_applicable("no provisioned concurrency")
        stats = fn.stats
        if stats is None or stats.provisioned_concurrency_utilization_avg is None:
            return self.unknown("provisioned-concurrency utilisation is unknown")
        average = stats.provisioned_concurrency_utilization_avg
        if average >= IDLE_UTILISATION:
            return self.passed(f"{percent(average)}% average utilisation")
        peak = stats.provisioned_concurrency_utilization_max
        if peak is None:
            return self.unknown("peak provisioned-concurrency utilisation is unknown")
        configs = [c for c in fn.provisioned_concurrency_configs or () if c.billed or c.requested]
        if not configs:
            return self.unknown(
                "the alias or version holding the provisioned concurrency is unknown"
            )
        facts = [
            evidence(
                f"Provisioned concurrency ({config.qualifier})",
                config.billed,
                "" if config.billed == config.requested else f"of {config.requested} requested",
                "configuration",
            )
            for config in configs
        ]
        facts += [
            evidence("Utilisation (average)", percent(average), "%", "metrics"),
            evidence("Utilisation (peak)", percent(peak), "%", "metrics"),
        ]
        if len(configs) > 1:
            qualifiers = ", ".join(f"{c.qualifier} ({c.billed})" for c in configs)
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=Severity.LOW,
                    title=f"Provisioned concurrency on {len(configs)} aliases is mostly idle",
                    rationale=(
                        f"{fn.name} keeps {total} environments warm on {qualifiers}, "
                        f"{percent(average)}% used on average and {percent(peak)}% at peak. "
                        "These figures are the function's as a whole, so they do not say "
                        "which alias is idle: compare each alias's "
                        "ProvisionedConcurrencyUtilization (dimension Resource) and reduce the "
                        "idle ones; below about 60% average utilisation provisioned "
                        "concurrency costs more than on-demand."
                    ),
                    confidence=Confidence.LOW,
                    evidence=facts,
                    risk=Risk.LOW,
                )
            )
        [config] = configs
        qualifier, warm, configured = config.qualifier, config.billed, config.requested
        # Utilisation is over the allocated environments: the peak used peak × warm of them.
        proposed = math.ceil(round(warm * min(peak, 1.0) / PEAK_TARGET_UTILISATION, 6))
        if proposed >= configured:
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=Severity.LOW,
                    title="Scale provisioned concurrency on a schedule",
                    rationale=(
                        f"{fn.name}'s {warm} provisioned environments are "
                        f"{percent(average)}% used on average, but peaks use them all. Scale "
                        "them with the traffic (Application Auto Scaling, scheduled or on "
                        "utilisation) instead of keeping the peak level all month."
                    ),
                    confidence=Confidence.MEDIUM,
                    evidence=facts,
                    risk=Risk.LOW,
                )
            )
        before = cost(fn, context.now)
        after = None
        if before is not None:
            # The same traffic spread over fewer environments raises their utilisation.
            resized_total = total - warm + proposed
            busier = total / resized_total if resized_total else None
            resized = fn.model_copy(
                update={
                    "provisioned_concurrency": resized_total,
                    "stats": stats.model_copy(
                        update={
                            "provisioned_concurrency_utilization_avg": min(1.0, average * busier)
                            if busier
                            else None,
                            "provisioned_concurrency_utilization_max": min(1.0, peak * busier)
                            if busier
                            else None,
                        }
                    ),
                }
            )
            after = cost(resized, context.now)
        saving = before.total_usd - after.total_usd if before and after else None
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM,
                title=(
                    f"Remove idle provisioned concurrency ({configured})"
                    if proposed == 0
                    else f"Reduce provisioned concurrency from {configured} to {proposed}"
                ),
                rationale=(
                    f"{fn.name}:{qualifier} keeps {warm} environments warm, "
                    f"{percent(average)}% used on average and {percent(peak)}% at peak. "
                    f"{proposed} covers the peak at 90% utilisation; below about 60% average "
                    "utilisation, provisioned concurrency costs more than on-demand."
                ),
                confidence=Confidence.MEDIUM,
                evidence=facts,
                # The applier compares and sets the qualifier's requested value.
                change=ProvisionedConcurrencyChange(
                    function_name=fn.name, qualifier=qualifier, before=configured, after=proposed
                ),
                cost_before=before.total_usd if before else None,
                cost_after=after.total_usd if after else None,
                savings=max(0.0, saving) if saving is not None else None,
                risk=Risk.MEDIUM,
                notes=("Requests above the new level start cold.",),
            )
        )

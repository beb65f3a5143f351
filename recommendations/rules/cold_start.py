"""Cold starts on functions that somebody is waiting for."""

from __future__ import annotations

import math
import re

from recommendations.changes import ProvisionedConcurrencyChange
from recommendations.pricing import (
    FREE_EPHEMERAL_STORAGE_MB,
    SECONDS_PER_MONTH,
    init_is_billed,
    prices_for,
    snapstart_is_free,
    snapstart_monthly_cost,
)
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
    cents,
    cost,
    evidence,
    log_sample_too_small,
    percent,
    report_lines_off,
)
from recommendations.snapshot import FunctionSnapshot, FunctionStats, PackageType

# A synchronous function with cold starts on at least this share of invocations...
FREQUENT_COLD_START_RATE = 0.01
# ...each adding at least this much init time has a latency problem worth paying for.
SLOW_INIT_MS = 500.0

# Runtimes with SnapStart: Java 11 and later, Python 3.12 and later, .NET 8 and later.
_SNAPSTART_PATTERNS = (
    (re.compile(r"^java(\d+)"), 11),
    (re.compile(r"^python3\.(\d+)$"), 12),
    (re.compile(r"^dotnet(\d+)$"), 8),
)


def supports_snapstart(runtime: str | None) -> bool:
    if runtime is None:
        return False
    for pattern, minimum in _SNAPSTART_PATTERNS:
        match = pattern.match(runtime)
        if match:
            return int(match.group(1)) >= minimum
    return False


def snapstart_possible(fn: FunctionSnapshot) -> bool:
    """The runtime has SnapStart and nothing the function uses rules it out: SnapStart does not
    work with provisioned concurrency, ephemeral storage above 512 MB or container images."""
    return (
        supports_snapstart(fn.runtime)
        and fn.package_type is PackageType.ZIP
        and not fn.provisioned_concurrency
        and fn.ephemeral_storage_mb <= FREE_EPHEMERAL_STORAGE_MB
    )


class FrequentColdStarts(Rule):
    """Frequent, slow cold starts on a function a caller waits for.

    What it checks:
    Functions invoked synchronously (API Gateway, function URLs, load balancers) with cold
    starts on 1% or more of the sampled invocations and an average init of 500 ms or more. It
    proposes SnapStart where the runtime has it (Java 11+, Python 3.12+, .NET 8+) and the
    function can use it (no provisioned concurrency, /tmp of 512 MB, a zip package), priced
    net: the billed init it saves, less, for Python and .NET, the snapshot cache of one
    published version all month and one restore per cold start today. Otherwise it proposes
    provisioned concurrency sized to the average concurrency.

    Why it matters:
    Every cold start adds the init time to a user-facing response, and those slow responses
    are what people remember (and what p99 alarms measure).

    What to do:
    Enable SnapStart on a published version (free for Java; Python and .NET pay for caching
    and restores), or apply the provisioned concurrency: it costs money every hour (shown as a
    negative saving, traded for speed). Trimming the package and init code helps either way.
    """

    rule_id = "COLD-001"
    name = "Frequent cold starts on a latency-sensitive function"
    category = Category.COLD_START
    needs = (
        "invoked_by",
        "runtime",
        "snap_start",
        "provisioned_concurrency_qualifier",
        "provisioned_concurrency_configs",
        "stats.cold_starts",
        "stats.log_sample_invocations",
        "stats.init_duration_avg_ms",
        "stats.invocations",
        "stats.duration_avg_ms",
    )
    proposes = ProvisionedConcurrencyChange
    iam_actions = ProvisionedConcurrencyChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.invoked_by is None:
            return self.unknown("who invokes the function is unknown")
        if not any(source.is_synchronous_request for source in fn.invoked_by):
            return self.not_applicable("no caller waits for a response")
        stats = fn.stats
        if stats is None or stats.cold_starts is None or stats.init_duration_avg_ms is None:
            return self.unknown(report_lines_off(fn) or "cold starts or init duration are unknown")
        too_small = log_sample_too_small(stats)
        if too_small:
            return self.unknown(too_small)
        rate = stats.cold_start_rate or 0.0
        init = stats.init_duration_avg_ms
        if rate < FREQUENT_COLD_START_RATE or init < SLOW_INIT_MS:
            return self.passed(f"{percent(rate)}% cold starts, {init:,.0f} ms init on average")
        facts = [
            evidence("Cold starts", percent(rate), "% of invocations", "REPORT log lines"),
            evidence("Init duration (average)", round(init, 1), "ms", "REPORT log lines"),
            evidence("Invoked by", ", ".join(s.value for s in fn.invoked_by), "", "triggers"),
        ]
        problem = (
            f"{percent(rate)}% of {fn.name}'s invocations start cold and wait about "
            f"{init:,.0f} ms for init while a caller waits."
        )
        if snapstart_possible(fn) and not fn.snap_start:
            return self._snapstart(fn, context, stats, problem, facts)
        per_month = stats.invocations_per_month
        duration = stats.duration_avg_ms
        if per_month is None or duration is None:
            return self.unknown(
                "traffic or duration is unknown, so provisioned concurrency cannot be sized"
            )
        average_concurrency = per_month / SECONDS_PER_MONTH * duration / 1000.0
        added = max(1, math.ceil(average_concurrency))
        qualifier = fn.provisioned_concurrency_qualifier
        # The change is to one alias: compared with and set on that alias's configured value,
        # while the price counts every alias's warm environments.
        on_alias = fn.provisioned_config(qualifier) if qualifier else None
        current = on_alias.requested if on_alias else 0
        proposed = current + added
        before = cost(fn, context.now)
        after = cost(fn, context.now, provisioned=(fn.provisioned_concurrency or 0) + added)
        saving = before.total_usd - after.total_usd if before and after else None
        facts.append(evidence("Average concurrency", round(average_concurrency, 2), "", "derived"))
        change = (
            ProvisionedConcurrencyChange(
                function_name=fn.name, qualifier=qualifier, before=current, after=proposed
            )
            if qualifier
            else None
        )
        rationale = problem + f" {proposed} provisioned environments keep the average load warm."
        if change is None:
            rationale += (
                " Publish a version behind an alias first: provisioned concurrency needs one."
            )
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM,
                title=f"Keep {proposed} environments warm with provisioned concurrency",
                rationale=rationale,
                confidence=Confidence.MEDIUM,
                evidence=facts,
                change=change,
                cost_before=before.total_usd if before else None,
                cost_after=after.total_usd if after else None,
                savings=saving,
                trade_off=TradeOff.SPEED,
                risk=Risk.LOW,
            )
        )

    def _snapstart(
        self,
        fn: FunctionSnapshot,
        context: RuleContext,
        stats: FunctionStats,
        problem: str,
        facts: list[Evidence],
    ) -> RuleResult:
        """SnapStart, priced net where traffic is known: billed init saved, less the cache and
        the restores (free for Java). Billed restore time (runtime hooks) is not known until
        SnapStart runs and is left out, which the card says."""
        init = stats.init_duration_avg_ms or 0.0
        free = snapstart_is_free(fn.runtime)
        per_month = stats.invocations_per_month
        before = cost(fn, context.now)
        saving = after = None
        notes = [
            "Code that must be unique per environment (random seeds, connections) needs "
            "runtime hooks."
        ]
        if per_month is not None and before is not None:
            prices = prices_for(fn.region)
            gb = fn.memory_mb / 1024.0
            cold_per_month = (stats.cold_start_rate or 0.0) * per_month
            init_saved = 0.0
            if init_is_billed(fn.runtime, fn.package_type, context.now):
                init_saved = cold_per_month * init / 1000.0 * gb * prices.gb_second[fn.architecture]
            cache, restores = snapstart_monthly_cost(
                fn.runtime, fn.memory_mb, cold_per_month, prices
            )
            saving = init_saved - cache - restores
            after = before.total_usd - saving
            facts = [
                *facts,
                evidence("Billed init saved", cents(init_saved), "USD a month", "derived"),
            ]
            if free:
                notes.append("SnapStart's cache and restores are free for Java.")
            else:
                facts += [
                    evidence("SnapStart cache", cents(cache), "USD a month", "pricing"),
                    evidence("SnapStart restores", cents(restores), "USD a month", "pricing"),
                ]
                notes.append(
                    f"Priced with one published version cached all month (each more version "
                    f"with SnapStart adds ${cents(cache):,.2f}) and one restore per cold start "
                    "today; billed restore time (runtime hooks) is not included."
                )
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM,
                title=f"Enable SnapStart to cut {init:,.0f} ms cold starts",
                rationale=problem
                + f" {fn.runtime} supports SnapStart: Lambda snapshots the initialised "
                "environment and restores it instead of running init. Enable it on a "
                "published version and invoke through an alias.",
                confidence=Confidence.MEDIUM,
                evidence=facts,
                cost_before=before.total_usd if before and saving is not None else None,
                cost_after=after,
                savings=saving,
                trade_off=TradeOff.SPEED if saving is not None and saving < 0 else None,
                risk=Risk.MEDIUM,
                benchmark_first=True,
                notes=notes,
            )
        )

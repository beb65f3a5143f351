"""Functions nobody invokes that still cost money or hold capacity."""

from __future__ import annotations

from recommendations.changes import ProvisionedConcurrencyChange
from recommendations.pricing import prices_for, provisioned_concurrency_monthly_cost
from recommendations.recommendation import Category, Confidence, Evidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, cents, evidence
from recommendations.snapshot import FunctionSnapshot

IDLE_DAYS = 30


class IdleWithStandingCost(Rule):
    """A function with no invocations for 30 days or more that still has a standing cost.

    What it checks:
    Functions with no invocations over at least 30 days (the window itself, or the 30-day
    Invocations figure the scan reads for functions idle in a shorter window) that keep
    provisioned concurrency, which is billed every second, or reserved concurrency, which
    holds part of the account's concurrency away from other functions. A function changed in
    the last 30 days may be new rather than unused: the recommendation then has medium
    confidence and says so. Provisioned concurrency is only known where the scan read it.

    Why it matters:
    Provisioned environments of a function nobody calls are pure cost: every hour of them is
    billed and none serves a request. Reserved concurrency costs nothing, but an idle
    function's reservation is capacity that busy functions in the account cannot use.

    What to do:
    Apply the change to remove the provisioned concurrency (a later request simply starts
    cold). Release the reserved concurrency, or delete the function if nothing needs it any
    more.
    """

    rule_id = "IDLE-001"
    name = "Idle function with a standing cost"
    category = Category.IDLE
    needs = (
        "stats.invocations",
        "stats.invocations_last_30_days",
        "provisioned_concurrency",
        "provisioned_concurrency_qualifier",
        "reserved_concurrency",
        "last_modified",
    )
    proposes = ProvisionedConcurrencyChange
    iam_actions = ProvisionedConcurrencyChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None or stats.invocations is None:
            return self.unknown("invocations are unknown")
        if stats.invocations > 0:
            return self.passed(f"{stats.invocations:,} invocations in the window")
        window = stats.window_days
        if window >= IDLE_DAYS:
            seen = evidence("Invocations", 0, f"in {window:,.0f} days", "metrics")
        elif stats.invocations_last_30_days is None:
            return self.unknown(
                f"no invocations in the {window:,.0f}-day window; the 30 days were not read"
            )
        elif stats.invocations_last_30_days > 0:
            return self.passed(
                f"{stats.invocations_last_30_days:,} invocations in the last {IDLE_DAYS} days"
            )
        else:
            seen = evidence("Invocations", 0, f"in the last {IDLE_DAYS} days", "metrics")
        provisioned = fn.provisioned_concurrency or 0
        reserved = fn.reserved_concurrency
        facts = [seen]
        confidence = Confidence.HIGH
        notes: tuple[str, ...] = ()
        if fn.last_modified is not None:
            age = (context.now - fn.last_modified).total_seconds() / 86400.0
            facts.append(evidence("Last modified", round(age, 1), "days ago", "configuration"))
            if age < IDLE_DAYS:
                # Maybe new rather than abandoned: the standing cost is real all the same.
                confidence = Confidence.MEDIUM
                notes = (f"{fn.name} was changed {age:,.0f} days ago: it may be new, not unused.",)
        if provisioned:
            return self._provisioned(fn, provisioned, facts, confidence, notes)
        if reserved:
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=Severity.LOW,
                    title=f"Release the reserved concurrency ({reserved}) of an idle function",
                    rationale=(
                        f"Nothing invoked {fn.name} for {IDLE_DAYS} days or more, but it reserves "
                        f"{reserved} of the account's concurrency, which other functions cannot "
                        "use. Release the reservation, or delete the function if nothing needs it."
                    ),
                    confidence=confidence,
                    evidence=[
                        *facts,
                        evidence("Reserved concurrency", reserved, "", "configuration"),
                    ],
                    risk=Risk.LOW,
                    notes=notes,
                )
            )
        if reserved == 0:
            return self.passed("reserved concurrency 0: switched off on purpose")
        return self.passed(f"idle for {IDLE_DAYS}+ days, but nothing standing costs money")

    def _provisioned(
        self,
        fn: FunctionSnapshot,
        provisioned: int,
        seen: list[Evidence],
        confidence: Confidence,
        notes: tuple[str, ...],
    ) -> RuleResult:
        standing = provisioned_concurrency_monthly_cost(
            provisioned, fn.memory_mb, fn.architecture, prices_for(fn.region)
        )
        qualifier = fn.provisioned_concurrency_qualifier
        facts = [
            *seen,
            evidence("Provisioned concurrency", provisioned, "", "configuration"),
            evidence("Provisioned concurrency cost", cents(standing), "USD a month", "derived"),
        ]
        where = f"{fn.name}:{qualifier}" if qualifier else fn.name
        change = (
            ProvisionedConcurrencyChange(
                function_name=fn.name, qualifier=qualifier, before=provisioned, after=0
            )
            if qualifier
            else None
        )
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM,
                title=(
                    f"Remove provisioned concurrency from an idle function "
                    f"(${cents(standing):,.2f} a month)"
                ),
                rationale=(
                    f"Nothing invoked {fn.name} for {IDLE_DAYS} days or more, yet {where} keeps "
                    f"{provisioned} environments warm at about ${cents(standing):,.2f} a month. "
                    "Remove it; a later request simply starts cold."
                    + ("" if change else " Remove it from the alias or version that holds it.")
                ),
                confidence=confidence,
                evidence=facts,
                change=change,
                cost_before=standing,
                cost_after=0.0,
                savings=standing,
                risk=Risk.LOW,
                notes=notes,
            )
        )

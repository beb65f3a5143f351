"""Ephemeral storage (/tmp) configured, and billed, above the free 512 MB."""

from __future__ import annotations

from recommendations.changes import MIN_EPHEMERAL_STORAGE_MB, EphemeralStorageChange
from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import MIN_WORTHWHILE_SAVINGS_USD, build, cents, cost, evidence
from recommendations.snapshot import FunctionSnapshot


class EphemeralStorageOverProvisioned(Rule):
    """Ephemeral storage above the free 512 MB that may not be needed.

    What it checks:
    Functions configured with more than 512 MB of /tmp, and what that storage costs a month
    at their traffic (storage above 512 MB is billed per GB-second of every invocation). It
    recommends when that is at least $0.10 a month. Lambda publishes no figure for how much
    of /tmp a function uses, so the recommendation has low confidence and is labelled high
    risk.

    Why it matters:
    The extra storage is billed for the whole duration of every invocation, whether the
    function writes one file or none. Large /tmp sizes are often set once for a job that has
    since changed, or copied from another function's template.

    What to do:
    Find out whether the function needs the space: its code (what it downloads or unpacks to
    /tmp), CloudWatch Lambda Insights (its tmp_used metric), or a log line of
    shutil.disk_usage("/tmp") at the end of the handler. If it stays well under 512 MB, apply
    the change. It is a one-click change rather than advice because it is undone in one click
    and a function that does need the space fails at once and visibly ("No space left on
    device" errors) instead of silently costing more; the card says "risk high" and "confidence
    low" so nobody applies it without that check.
    """

    rule_id = "STO-001"
    name = "Ephemeral storage above the free 512 MB"
    category = Category.STORAGE
    needs = (
        "ephemeral_storage_mb",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
        "stats.duration_avg_ms",
    )
    proposes = EphemeralStorageChange
    iam_actions = EphemeralStorageChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        size = fn.ephemeral_storage_mb
        if size <= MIN_EPHEMERAL_STORAGE_MB:
            return self.not_applicable("the free 512 MB of /tmp")
        before = cost(fn, context.now)
        if before is None:
            return self.unknown("traffic or duration is unknown, so the storage cannot be priced")
        storage = before.ephemeral_storage_usd
        if storage < MIN_WORTHWHILE_SAVINGS_USD:
            return self.passed(f"{size} MB of /tmp costs ${storage:,.2f} a month")
        facts = [
            evidence("Ephemeral storage", size, "MB", "configuration"),
            evidence("Billed above the free 512 MB", size - MIN_EPHEMERAL_STORAGE_MB, "MB"),
            evidence("Ephemeral storage cost", cents(storage), "USD a month", "derived"),
            evidence("/tmp used", "not published by Lambda", "", "unknown"),
        ]
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.LOW,
                title=f"Check whether {size} MB of /tmp is needed (${cents(storage):,.2f} a month)",
                rationale=(
                    f"{fn.name} is configured with {size} MB of ephemeral storage; the "
                    f"{size - MIN_EPHEMERAL_STORAGE_MB} MB above the free 512 MB cost about "
                    f"${cents(storage):,.2f} a month at its traffic. Lambda does not say how much "
                    "of /tmp the function uses: check that it stays under 512 MB before applying."
                ),
                confidence=Confidence.LOW,
                evidence=facts,
                change=EphemeralStorageChange(
                    function_name=fn.name, before=size, after=MIN_EPHEMERAL_STORAGE_MB
                ),
                cost_before=before.total_usd,
                cost_after=before.total_usd - storage,
                savings=storage,
                risk=Risk.HIGH,
                notes=(
                    "If the function writes more than 512 MB to /tmp it fails with 'No space "
                    "left on device' after this change; undo it from the card.",
                ),
            )
        )

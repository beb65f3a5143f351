"""Runtimes that AWS has deprecated or will deprecate soon."""

from __future__ import annotations

from datetime import UTC, date, datetime

from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, evidence
from recommendations.snapshot import FunctionSnapshot

# Deprecation dates (phase 1: no more patches, no new functions) from AWS's Lambda runtimes
# page, with the runtime to move to. AWS moves projected dates from time to time: keep this
# table current. As published in November 2025, except python3.11, which AWS later moved to
# 2027-06-30. The other Amazon Linux 2 runtimes (python3.10, java8.al2, java11, java17,
# provided.al2) were listed at 2026-06-30, the end of Amazon Linux 2; check them against
# AWS's page when updating.
DEPRECATION_DATES: dict[str, tuple[date, str]] = {
    "python2.7": (date(2021, 7, 15), "python3.13"),
    "python3.6": (date(2022, 7, 18), "python3.13"),
    "python3.7": (date(2023, 12, 4), "python3.13"),
    "python3.8": (date(2024, 10, 14), "python3.13"),
    "python3.9": (date(2025, 12, 15), "python3.13"),
    "python3.10": (date(2026, 6, 30), "python3.13"),
    "python3.11": (date(2027, 6, 30), "python3.13"),
    "python3.12": (date(2028, 10, 31), "python3.13"),
    "python3.13": (date(2029, 6, 30), "python3.14"),
    "python3.14": (date(2029, 6, 30), "a newer Python"),
    "nodejs10.x": (date(2021, 7, 30), "nodejs22.x"),
    "nodejs12.x": (date(2023, 3, 31), "nodejs22.x"),
    "nodejs14.x": (date(2023, 12, 4), "nodejs22.x"),
    "nodejs16.x": (date(2024, 6, 12), "nodejs22.x"),
    "nodejs18.x": (date(2025, 9, 1), "nodejs22.x"),
    "nodejs20.x": (date(2026, 4, 30), "nodejs22.x"),
    "nodejs22.x": (date(2027, 4, 30), "nodejs24.x"),
    "nodejs24.x": (date(2028, 4, 30), "a newer Node.js"),
    "java8": (date(2024, 1, 8), "java21"),
    "java8.al2": (date(2026, 6, 30), "java21"),
    "java11": (date(2026, 6, 30), "java21"),
    "java17": (date(2026, 6, 30), "java21"),
    "java21": (date(2029, 6, 30), "java25"),
    "java25": (date(2029, 6, 30), "a newer Java"),
    "dotnetcore2.1": (date(2022, 1, 5), "dotnet8"),
    "dotnetcore3.1": (date(2023, 4, 3), "dotnet8"),
    "dotnet6": (date(2024, 12, 20), "dotnet8"),
    "dotnet7": (date(2024, 5, 14), "dotnet8"),
    "dotnet8": (date(2026, 11, 10), "dotnet10"),
    "dotnet10": (date(2028, 11, 14), "a newer .NET"),
    "ruby2.5": (date(2021, 7, 30), "ruby3.4"),
    "ruby2.7": (date(2023, 12, 7), "ruby3.4"),
    "ruby3.2": (date(2026, 3, 31), "ruby3.4"),
    "ruby3.3": (date(2027, 3, 31), "ruby3.4"),
    "ruby3.4": (date(2028, 3, 31), "a newer Ruby"),
    "go1.x": (date(2024, 1, 8), "provided.al2023"),
    "provided": (date(2024, 1, 8), "provided.al2023"),
    "provided.al2": (date(2026, 6, 30), "provided.al2023"),
    "provided.al2023": (date(2029, 6, 30), "a newer OS-only runtime"),
}
# A deprecation this close (or closer) is worth planning now.
SOON_DAYS = 180


class DeprecatedRuntime(Rule):
    """A runtime that is deprecated, or will be within 180 days.

    What it checks:
    The function's runtime against a dated table of AWS's deprecation dates, compared with
    the time of the analysis (never the clock of the machine running it).

    Why it matters:
    After deprecation a runtime gets no security patches and no support; about a month later
    functions using it can no longer be updated, which blocks even urgent fixes. Functions keep
    running, so the risk grows quietly.

    What to do:
    Move the function to the suggested runtime, test it, and deploy it through your usual
    pipeline. tunebot does not change runtimes: it needs a code review.
    """

    rule_id = "RT-001"
    name = "Deprecated runtime"
    category = Category.RUNTIME
    needs = ("runtime",)

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.runtime is None:
            return self.not_applicable("container image: the runtime is inside the image")
        entry = DEPRECATION_DATES.get(fn.runtime)
        if entry is None:
            return self.unknown(f"{fn.runtime} is not in tunebot's runtime table")
        deprecated_on, successor = entry
        today = _as_date(context.now)
        days_left = (deprecated_on - today).days
        if days_left > SOON_DAYS:
            return self.passed(f"{fn.runtime} is supported until {deprecated_on.isoformat()}")
        past = days_left <= 0
        when = (
            f"was deprecated on {deprecated_on.isoformat()}"
            if past
            else f"will be deprecated on {deprecated_on.isoformat()} (in {days_left} days)"
        )
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.HIGH if past else Severity.MEDIUM,
                title=(
                    f"Upgrade {fn.runtime}: deprecated since {deprecated_on.isoformat()}"
                    if past
                    else f"Upgrade {fn.runtime} before {deprecated_on.isoformat()}"
                ),
                rationale=(
                    f"{fn.name} runs {fn.runtime}, which {when}. Deprecated runtimes get no "
                    "security patches, and soon after, the function cannot be updated at all. "
                    f"Move it to {successor}."
                ),
                confidence=Confidence.HIGH,
                evidence=(
                    evidence("Runtime", fn.runtime, "", "configuration"),
                    evidence("Deprecation date", deprecated_on.isoformat(), "", "AWS"),
                    evidence("Days left", days_left, "days", "derived"),
                ),
                risk=Risk.MEDIUM,
            )
        )


def _as_date(moment: datetime) -> date:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()

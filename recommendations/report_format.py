"""Text renderings of a fleet report: a ranked table, markdown, and the JSON document.

Used by ``tunebot analyze`` (and any other command that prints a report). Pure: it returns
strings and dicts, the caller prints them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from recommendations.engine import FleetReport
from recommendations.pricing import REFERENCE_REGION, prices_for
from recommendations.recommendation import Recommendation
from recommendations.rules.base import Outcome
from recommendations.snapshot import Frozen

TITLE_WIDTH = 54
FUNCTION_WIDTH = 24
BENCHMARK_MARK = " *"


class FleetSummary(Frozen):
    functions_analysed: int
    recommendations: int
    # Sums of the listed recommendations' positive savings. Each is its marginal saving in its
    # function's plan (priced after the changes before it), so they do not overlap.
    monthly_savings_usd: float
    monthly_savings_low_usd: float
    monthly_savings_high_usd: float
    # Σ of every analysed function's plan, to the cent: the net monthly change if everything is
    # applied (changes that buy speed or safety count against it).
    plans_savings_usd: float = 0.0
    plans_savings_low_usd: float = 0.0
    plans_savings_high_usd: float = 0.0
    # Regions priced with us-east-1 figures because they are not in the price table.
    estimated_price_regions: tuple[str, ...] = ()
    unknown_results: int = 0
    errors: dict[str, str] = Field(default_factory=dict)


def summarise(report: FleetReport, recommendations: tuple[Recommendation, ...]) -> FleetSummary:
    """Totals over ``recommendations`` (already filtered) of ``report``."""
    expected = low = high = 0.0
    for rec in recommendations:
        saving = rec.monthly_savings_usd
        expected += max(0.0, saving or 0.0)
        low += max(0.0, _first_known(rec.monthly_savings_low_usd, saving))
        high += max(0.0, _first_known(rec.monthly_savings_high_usd, saving))
    regions = sorted({fn.region for fn in report.functions if prices_for(fn.region).estimated})
    unknown = sum(
        1 for fn in report.functions for result in fn.results if result.outcome is Outcome.UNKNOWN
    )
    plans = report.plans
    return FleetSummary(
        functions_analysed=len(report.functions),
        recommendations=len(recommendations),
        monthly_savings_usd=round(expected, 2),
        monthly_savings_low_usd=round(low, 2),
        monthly_savings_high_usd=round(high, 2),
        plans_savings_usd=round(sum(plan.savings_usd or 0.0 for plan in plans), 2),
        plans_savings_low_usd=round(sum(plan.savings_low_usd or 0.0 for plan in plans), 2),
        plans_savings_high_usd=round(sum(plan.savings_high_usd or 0.0 for plan in plans), 2),
        estimated_price_regions=tuple(regions),
        unknown_results=unknown,
        errors=dict(report.errors),
    )


def _first_known(*values: float | None) -> float:
    for value in values:
        if value is not None:
            return value
    return 0.0


def money(value: float | None) -> str:
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def savings_text(rec: Recommendation) -> str:
    """ "$12.30", "$4.00–$9.10", "-$3.20 (speed)" or "—"."""
    low, mid, high = (
        rec.monthly_savings_low_usd,
        rec.monthly_savings_usd,
        rec.monthly_savings_high_usd,
    )
    if low is not None and high is not None and round(low, 2) != round(high, 2):
        text = f"{money(low)}–{money(high)}"
    elif mid is not None:
        text = money(mid)
    else:
        text = "—"
    if rec.trade_off is not None and (mid or low or 0.0) < 0:
        text += f" ({rec.trade_off.value})"
    return text


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _summary_lines(summary: FleetSummary) -> list[str]:
    lines = [
        f"{_count(summary.functions_analysed, 'function')} analysed, "
        f"{_count(summary.recommendations, 'recommendation')}.",
        f"Estimated savings: {money(summary.monthly_savings_usd)} a month "
        f"(range {money(summary.monthly_savings_low_usd)}–"
        f"{money(summary.monthly_savings_high_usd)}; each priced after the changes before it "
        "for the same function).",
    ]
    if round(summary.plans_savings_usd, 2) != round(summary.monthly_savings_usd, 2):
        lines.append(
            f"Applying every change nets {money(summary.plans_savings_usd)} a month "
            f"(range {money(summary.plans_savings_low_usd)}–"
            f"{money(summary.plans_savings_high_usd)}), counting the ones that buy speed or "
            "safety."
        )
    if summary.estimated_price_regions:
        lines.append(
            "Note: prices for "
            + ", ".join(summary.estimated_price_regions)
            + f" are {REFERENCE_REGION} estimates."
        )
    if summary.unknown_results:
        lines.append(
            f"{_count(summary.unknown_results, 'check')} could not run for lack of data "
            "(unknown, not passed; --format json lists why)."
        )
    for name, reason in sorted(summary.errors.items()):
        lines.append(f"Not analysed: {name}: {reason}")
    return lines


def render_table(summary: FleetSummary, recommendations: tuple[Recommendation, ...]) -> str:
    """A ranked plain-text table followed by the fleet summary."""
    headers = ("#", "Function", "Rule", "Recommendation", "Saves / month", "Conf.", "Risk")
    rows = [
        (
            str(index),
            _clip(rec.function, FUNCTION_WIDTH),
            rec.rule_id,
            _clip(rec.title, TITLE_WIDTH) + (BENCHMARK_MARK if rec.benchmark_first else ""),
            savings_text(rec),
            rec.confidence.value,
            rec.risk.value,
        )
        for index, rec in enumerate(recommendations, start=1)
    ]
    lines: list[str] = []
    if rows:
        widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
        right_aligned = {0, 4}

        def line(cells: tuple[str, ...]) -> str:
            padded = (
                cell.rjust(widths[i]) if i in right_aligned else cell.ljust(widths[i])
                for i, cell in enumerate(cells)
            )
            return "  ".join(padded).rstrip()

        lines.append(line(headers))
        lines.append("  ".join("-" * width for width in widths))
        lines.extend(line(row) for row in rows)
        if any(rec.benchmark_first for rec in recommendations):
            lines.append(f"{BENCHMARK_MARK.strip()} benchmark first: measure with `tunebot tune`")
        lines.append("")
    else:
        lines.append("No recommendations: every check passed or lacked the data to decide.")
        lines.append("")
    lines.extend(_summary_lines(summary))
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: FleetSummary, recommendations: tuple[Recommendation, ...]) -> str:
    """A markdown report: summary, ranked table, then each recommendation in detail."""
    lines = ["# tunebot analysis", "", *_summary_lines(summary), ""]
    if not recommendations:
        lines.append("No recommendations.")
        return "\n".join(lines) + "\n"
    lines += [
        "| # | Function | Rule | Recommendation | Saves / month | Confidence | Risk |",
        "| ---: | --- | --- | --- | ---: | --- | --- |",
    ]
    for index, rec in enumerate(recommendations, start=1):
        cells = (
            str(index),
            f"`{rec.function}`",
            rec.rule_id,
            rec.title,
            savings_text(rec),
            rec.confidence.value,
            rec.risk.value,
        )
        lines.append("| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |")
    for index, rec in enumerate(recommendations, start=1):
        lines += ["", f"## {index}. {rec.title}", ""]
        lines.append(
            f"`{rec.function}` · {rec.rule_id} · {rec.category.value} · "
            f"severity {rec.severity.value} · confidence {rec.confidence.value} · "
            f"risk {rec.risk.value}"
        )
        lines += ["", rec.rationale, ""]
        lines += [f"- {evidence.display()}" for evidence in rec.evidence]
        if rec.change is not None:
            lines += ["", f"**Change:** {rec.change.describe()}"]
        if rec.monthly_cost_before_usd is not None and rec.monthly_cost_after_usd is not None:
            lines += [
                "",
                f"**Monthly cost:** {money(rec.monthly_cost_before_usd)} → "
                f"{money(rec.monthly_cost_after_usd)} (saves {savings_text(rec)})",
            ]
        if rec.benchmark_first:
            lines += ["", "Benchmark first: `tunebot tune` measures this before you apply it."]
        lines += [f"\n> {note}" for note in rec.notes]
    return "\n".join(lines) + "\n"


def report_document(
    summary: FleetSummary,
    recommendations: tuple[Recommendation, ...],
    report: FleetReport | None = None,
) -> dict[str, Any]:
    """The ``--format json`` document: ``{"recommendations": [...], "summary": {...}}``.

    With ``report``, it also has every function's plan (``"plans"``, whatever the filters on
    ``recommendations``) with their total (``"fleet"``), and the checks that were unknown and
    why (``"unknown"``).
    """
    document: dict[str, Any] = {
        "recommendations": [_recommendation_document(rec) for rec in recommendations],
        "summary": summary.model_dump(mode="json"),
    }
    if report is not None:
        document["plans"] = [plan.model_dump(mode="json") for plan in report.plans]
        document["fleet"] = fleet_total(report)
        document["unknown"] = [
            {"function": fn.function, "rule_id": result.rule_id, "reason": result.reason}
            for fn in report.functions
            for result in fn.results
            if result.outcome is Outcome.UNKNOWN
        ]
    return document


def fleet_total(report: FleetReport) -> dict[str, float | None]:
    """Σ of the priced plans, to the cent (unpriced plans have no cost and save nothing)."""

    def total(field: str) -> float:
        return round(sum(getattr(plan, field) or 0.0 for plan in report.plans), 2) + 0.0

    return {
        "cost_now_usd": total("cost_now_usd"),
        "cost_after_usd": total("cost_after_usd"),
        "savings_usd": total("savings_usd"),
        "savings_low_usd": total("savings_low_usd"),
        "savings_high_usd": total("savings_high_usd"),
        "savings_elsewhere_usd": total("savings_elsewhere_usd"),
    }


def _recommendation_document(rec: Recommendation) -> dict[str, Any]:
    document = rec.model_dump(mode="json")
    document["change_description"] = rec.change.describe() if rec.change is not None else None
    return document

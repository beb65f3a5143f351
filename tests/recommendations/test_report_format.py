"""Rendering helpers: money, savings ranges, summary totals."""

from __future__ import annotations

from recommendations.engine import analyze_fleet
from recommendations.recommendation import Confidence, Recommendation, Severity, TradeOff
from recommendations.report_format import money, render_table, savings_text, summarise
from recommendations.rules.helpers import build
from recommendations.rules.runtime import DeprecatedRuntime
from recommendations.snapshot import FleetSnapshot
from tests.recommendations.builders import NOW, function

FN = function()


def rec(**fields: object) -> Recommendation:
    base: dict[str, object] = {
        "severity": Severity.LOW,
        "title": "t",
        "rationale": "r",
        "confidence": Confidence.LOW,
    }
    base.update(fields)
    return build(DeprecatedRuntime(), FN, **base)  # type: ignore[arg-type]


def test_money() -> None:
    assert (money(None), money(0.0), money(1234.5), money(-3.2)) == (
        "—",
        "$0.00",
        "$1,234.50",
        "-$3.20",
    )


def test_savings_text() -> None:
    assert savings_text(rec(savings=12.3)) == "$12.30"
    assert savings_text(rec(savings=5.0, savings_low=4.0, savings_high=9.1)) == "$4.00–$9.10"
    cost = rec(savings=-3.2, trade_off=TradeOff.SPEED)
    assert savings_text(cost) == "-$3.20 (speed)"
    ranged_cost = rec(savings_low=-5.72, savings_high=0.0, trade_off=TradeOff.SPEED)
    assert savings_text(ranged_cost) == "-$5.72–$0.00 (speed)"
    assert savings_text(rec()) == "—"


def test_summary_counts_unknowns_and_estimated_regions() -> None:
    fleet = FleetSnapshot(
        collected_at=NOW,
        window_start=NOW.replace(day=1),
        window_end=NOW,
        functions=(function("a", region="ap-southeast-3", runtime="python3.9"),),
    )
    report = analyze_fleet(fleet)
    summary = summarise(report, report.recommendations)
    assert summary.estimated_price_regions == ("ap-southeast-3",)
    assert summary.recommendations == 1  # RT-001 only: nothing else is known
    assert summary.unknown_results == sum(
        1 for r in report.functions[0].results if r.outcome.value == "unknown"
    )
    table = render_table(summary, report.recommendations)
    assert "1 function analysed, 1 recommendation." in table
    assert "Note: prices for ap-southeast-3 are us-east-1 estimates." in table


def test_empty_table_says_so() -> None:
    fleet = FleetSnapshot(collected_at=NOW, window_start=NOW.replace(day=1), window_end=NOW)
    report = analyze_fleet(fleet)
    assert render_table(summarise(report, ()), ()).startswith(
        "No recommendations: every check passed or lacked the data to decide.\n"
    )

"""The benchmark result card: a table sorted by memory with the winner starred and each
configuration against the current one, one warm duration per configuration, monthly cost at the
function's traffic, confidence in plain words, and the chart uploaded beside it.

The chart is drawn here, in the lazy listener that ran the benchmark: ``charts.tuning_chart``
(Pillow) is imported only when a result is posted, so the Slack acknowledgement never loads it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.rendering import render_blocks
from bot.views import BenchmarkView, RecommendationView, money
from charts.figures import ConfigurationRow, configuration_rows, cost_ratio, speedup
from recommendations.pricing import prices_for
from recommendations.tuning.result import TuningResult
from service.api import BenchmarkOutcome

logger = logging.getLogger(__name__)

# The adaptive search's own sentence, until the result carries these figures as fields.
_RESAMPLED = re.compile(
    r"In (?P<share>\d+)% of (?P<fits>\d+) resampled fits the choice is within "
    r"(?P<gap>[\d.]+)% of the best configuration\."
)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def _per_million(row: ConfigurationRow) -> str:
    value = row.cost_per_million_usd
    return "–" if value is None else f"${value:,.2f}"


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def table_lines(rows: tuple[ConfigurationRow, ...]) -> tuple[str, ...]:
    """Fixed-width rows for the card's code block; ★ marks the winner, "now" the current."""
    baseline = next((r for r in rows if r.current), None)
    monthly = any(r.monthly_cost_usd is not None for r in rows)
    header = f"  {'memory':>8} {'arch':<7} {'warm':>9} {'per 1M':>9}"
    header += f" {'a month':>10}" if monthly else ""
    header += f" {'faster':>7} {'cost':>6}" if baseline else ""
    lines = [header]
    for row in rows:
        mark = "★" if row.best else " "
        line = f"{mark} {row.memory_mb:>5} MB {row.architecture.value:<7} "
        if row.failure is not None:
            lines.append(f"{line}failed: {row.failure}")
            continue
        line += f"{_ms(row.duration_ms):>9} {_per_million(row):>9}"
        if monthly:
            line += (
                f" {money(row.monthly_cost_usd) if row.monthly_cost_usd is not None else '–':>10}"
            )
        if baseline is not None:
            if row.current:
                line += f" {'now':>7} {'':>6}"
            else:
                line += (
                    f" {_times(speedup(row, baseline)):>7} {_times(cost_ratio(row, baseline)):>6}"
                )
        if not row.measured:
            line += "  (predicted)"
        lines.append(line)
    return tuple(lines)


def _share_in_ten(percent: int) -> str:
    tenths = round(percent / 10)
    return "All" if tenths >= 10 else f"{tenths} in 10"


def confidence_words(result: TuningResult) -> str:
    """ "9 in 10 resamples pick within 1 % of this": what a resampled fit says, readable."""
    statement = result.confidence_statement
    found = _RESAMPLED.search(statement)
    if found is None:
        return f"Confidence {result.confidence.value}. {statement}".strip()
    gap = float(found["gap"])
    # Below 1 % the figure is noise in the resampling; a user acts on "within 1 %".
    within = "1 %" if gap <= 1 else f"{gap:.0f} %"
    words = f"{_share_in_ten(int(found['share']))} resamples pick within {within} of this"
    rest = (statement[: found.start()] + statement[found.end() :]).strip()
    return f"Confidence {result.confidence.value}: {words}." + (f" {rest}" if rest else "")


def _headline(rows: tuple[ConfigurationRow, ...]) -> str:
    best = next((r for r in rows if r.best), None)
    baseline = next((r for r in rows if r.current), None)
    if best is None:
        return "No configuration could be recommended."
    text = (
        f"*Best: {best.memory_mb} MB on {best.architecture.value}*: {_ms(best.duration_ms)} warm, "
        f"{_per_million(best)} per million invocations"
    )
    if best.monthly_cost_usd is not None:
        text += f" ({money(best.monthly_cost_usd)} a month)"
    if baseline is not None and baseline is not best:
        faster, cost = speedup(best, baseline), cost_ratio(best, baseline)
        if faster is not None and cost is not None:
            text += (
                f": {faster:.2f}× faster at {cost:.2f}× the cost of now "
                f"({baseline.memory_mb} MB on {baseline.architecture.value})"
            )
    elif baseline is best:
        text += ": the current configuration is already the best"
    return text + "."


def _notes(result: TuningResult, rows: tuple[ConfigurationRow, ...]) -> tuple[str, ...]:
    notes = [confidence_words(result)]
    inits = [r.cold_init_ms for r in rows if r.cold_init_ms is not None]
    if inits:
        notes.append(
            f"Cold starts are left out of the figures: init took {min(inits):,.0f}–"
            f"{max(inits):,.0f} ms on the first invocation after each change."
        )
    if result.invocations_per_month is not None:
        notes.append(f"Monthly figures at {result.invocations_per_month:,.0f} invocations a month.")
    return tuple(notes)


def benchmark_view(
    outcome: BenchmarkOutcome,
    follow_up: RecommendationView | None,
    *,
    chart_file_id: str | None = None,
) -> BenchmarkView:
    if follow_up is not None:
        # The follow-up is measured already: offering "Benchmark first" again would loop.
        follow_up = follow_up.model_copy(update={"can_benchmark": False})
    if outcome.result is None:
        return BenchmarkView(
            function=outcome.function,
            summary=outcome.summary,
            invocations=outcome.invocations,
            tuning_cost=money(outcome.tuning_cost_usd),
            results=outcome.results,
            recommendation=follow_up,
        )
    rows = configuration_rows(outcome.result, prices_for(outcome.region))
    return BenchmarkView(
        function=outcome.function,
        summary=_headline(rows),
        invocations=outcome.invocations,
        tuning_cost=money(outcome.tuning_cost_usd),
        results=table_lines(rows),
        recommendation=follow_up,
        notes=_notes(outcome.result, rows),
        chart_file_id=chart_file_id,
        chart_alt_text=(
            f"Cost per million invocations and warm duration against memory for {outcome.function}"
        ),
    )


def upload_chart(client: WebClient, outcome: BenchmarkOutcome) -> str | None:
    """Draw the chart and upload it (files.uploadV2); its file id, or None when it cannot be
    shown: the card is still worth posting without its picture."""
    if outcome.result is None:
        return None
    from charts.tuning_chart import render_tuning_chart

    png = render_tuning_chart(outcome.result, region=outcome.region)
    try:
        # Not shared to a channel: the card's image block shows it where the card is posted.
        uploaded = client.files_upload_v2(
            content=png,
            filename=f"benchmark-{outcome.function}.png",
            title=f"Benchmark of {outcome.function}",
        )
    except (SlackApiError, SlackClientError) as error:
        logger.warning("benchmark chart upload failed", extra={"error": str(error)})
        return None
    file = uploaded.get("file") or {}
    file_id = file.get("id") if isinstance(file, dict) else None
    return str(file_id) if file_id else None


def post_benchmark(
    client: WebClient,
    respond: Any,
    container: dict[str, Any],
    outcome: BenchmarkOutcome,
    follow_up: RecommendationView | None,
) -> None:
    """Post the result in the clicked card's thread (or ephemerally, where the card was)."""
    bench = benchmark_view(outcome, follow_up, chart_file_id=upload_chart(client, outcome))
    blocks = render_blocks("benchmark.j2", bench=bench)
    text = f"Benchmark of {outcome.function}: {outcome.summary}"
    if container.get("is_ephemeral") or not container.get("channel_id"):
        respond(text=text, blocks=blocks, replace_original=False)
    else:
        client.chat_postMessage(
            channel=container["channel_id"],
            thread_ts=container.get("message_ts"),
            text=text,
            blocks=blocks,
        )

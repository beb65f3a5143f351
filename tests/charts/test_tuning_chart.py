"""The benchmark chart is a real PNG of the result, and the card's rows agree with it."""

from __future__ import annotations

import io

from PIL import Image

from bot.benchmark_card import confidence_words, table_lines
from bot.template_examples import example_tuning_result
from charts.figures import configuration_rows
from charts.tuning_chart import render_tuning_chart
from recommendations.pricing import prices_for


def test_the_chart_is_a_png_of_the_promised_size() -> None:
    png = render_tuning_chart(example_tuning_result())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 10_000
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 540)
        # Both series' colours are drawn (x86_64 blue, arm64 orange), not a blank canvas.
        colours = {colour for _, colour in image.convert("RGB").getcolors(1_000_000) or []}
        assert (31, 119, 180) in colours and (230, 110, 20) in colours


def test_rows_are_sorted_by_memory_with_one_winner_and_warm_prices() -> None:
    rows = configuration_rows(example_tuning_result(), prices_for("us-east-1"))
    assert [r.memory_mb for r in rows] == sorted(r.memory_mb for r in rows)
    assert [r.key for r in rows if r.best] == [(512, rows[1].architecture)]
    lines = table_lines(rows)
    assert sum(line.startswith("★") for line in lines) == 1
    assert "failed: out of memory" in lines[1]


def test_confidence_reads_as_resamples_in_ten() -> None:
    assert confidence_words(example_tuning_result()) == (
        "Confidence high: 9 in 10 resamples pick within 1 % of this."
    )

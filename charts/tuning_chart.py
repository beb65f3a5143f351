"""The benchmark chart as PNG bytes: cost per million invocations and warm duration against
memory, one colour per architecture, measured points with a bar up to their p99, the search's
fitted curve, the winner starred and the current configuration ringed.

Drawn with Pillow rather than matplotlib: Pillow's wheel is a few MB with no numpy, so it fits
the Lambda package that renders the chart after a benchmark. The picture is drawn at twice its
size and scaled down, which smooths lines and text without an anti-aliasing backend.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from charts.figures import ConfigurationRow, configuration_rows, warm_cost_usd
from recommendations.pricing import RegionPrices, prices_for
from recommendations.snapshot import Architecture
from recommendations.tuning.result import TuningResult

WIDTH, HEIGHT = 1200, 540
SUPERSAMPLE = 2
BACKGROUND = (255, 255, 255)
INK = (40, 44, 52)
GRID = (226, 229, 234)
MUTED = (120, 126, 136)
FAILED = (200, 40, 40)
WINNER = (230, 170, 0)
SERIES_COLOURS = {Architecture.X86_64: (31, 119, 180), Architecture.ARM64: (230, 110, 20)}
MEMORY_TICKS = (128, 256, 512, 1024, 1769, 3008, 5120, 10240)

Point = tuple[float, float]


@dataclass(frozen=True)
class _Panel:
    """One plot area in logical pixels, memory on a log axis, the figure linear."""

    title: str
    left: float
    top: float
    right: float
    bottom: float
    memory_low: float
    memory_high: float
    value_low: float
    value_high: float

    def x(self, memory_mb: float) -> float:
        span = math.log(self.memory_high) - math.log(self.memory_low)
        share = (math.log(memory_mb) - math.log(self.memory_low)) / span
        return self.left + share * (self.right - self.left)

    def y(self, value: float) -> float:
        share = (value - self.value_low) / (self.value_high - self.value_low)
        return self.bottom - share * (self.bottom - self.top)


class _Canvas:
    """ImageDraw in logical pixels (the supersampling factor applied once, here)."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in self.fonts:
            # Pillow's bundled scalable font: no font files to ship or find on Lambda.
            self.fonts[size] = ImageFont.load_default(size=size * SUPERSAMPLE)
        return self.fonts[size]

    def line(self, points: Sequence[Point], colour: tuple[int, int, int], width: float) -> None:
        scaled = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]
        self.draw.line(scaled, fill=colour, width=max(1, round(width * SUPERSAMPLE)), joint="curve")

    def circle(
        self,
        centre: Point,
        radius: float,
        *,
        fill: tuple[int, int, int] | None = None,
        outline: tuple[int, int, int] | None = None,
        width: float = 1,
    ) -> None:
        x, y = centre[0] * SUPERSAMPLE, centre[1] * SUPERSAMPLE
        r = radius * SUPERSAMPLE
        self.draw.ellipse(
            (x - r, y - r, x + r, y + r),
            fill=fill,
            outline=outline,
            width=round(width * SUPERSAMPLE),
        )

    def star(self, centre: Point, radius: float, colour: tuple[int, int, int]) -> None:
        points = []
        for corner in range(10):
            reach = radius if corner % 2 == 0 else radius * 0.45
            angle = -math.pi / 2 + corner * math.pi / 5
            points.append(
                (
                    (centre[0] + reach * math.cos(angle)) * SUPERSAMPLE,
                    (centre[1] + reach * math.sin(angle)) * SUPERSAMPLE,
                )
            )
        self.draw.polygon(points, fill=colour, outline=INK, width=SUPERSAMPLE)

    def cross(self, centre: Point, size: float, colour: tuple[int, int, int]) -> None:
        x, y = centre
        self.line([(x - size, y - size), (x + size, y + size)], colour, 2.5)
        self.line([(x - size, y + size), (x + size, y - size)], colour, 2.5)

    def text(
        self,
        at: Point,
        text: str,
        size: int,
        colour: tuple[int, int, int] = INK,
        anchor: str = "la",
    ) -> None:
        self.draw.text(
            (at[0] * SUPERSAMPLE, at[1] * SUPERSAMPLE),
            text,
            fill=colour,
            font=self.font(size),
            anchor=anchor,
        )

    def png(self) -> bytes:
        small = self.image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _value_range(values: Sequence[float]) -> tuple[float, float, float]:
    """(low, high, step) covering the values, from zero unless that squashes them."""
    low, high = min(values), max(values)
    if high <= 0:
        return 0.0, 1.0, 0.25
    if low > 0.6 * high:
        low -= (high - low) * 0.5 + high * 0.02
    else:
        low = 0.0
    step = _nice_step(high - low, 5)
    low = math.floor(low / step) * step
    high = math.ceil(high * 1.04 / step) * step
    return max(low, 0.0), high, step


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


@dataclass(frozen=True)
class _Series:
    """What a panel plots: the figure of a measured row (with its p99 end) and of a curve
    point, both from the same rows and prices."""

    title: str
    unit: str
    measured: Callable[[ConfigurationRow], float | None]
    spread_top: Callable[[ConfigurationRow], float | None]


def _series(prices: RegionPrices) -> tuple[_Series, _Series]:
    def cost_at_p99(row: ConfigurationRow) -> float | None:
        if row.duration_p99_ms is None or not row.measured:
            return None
        return warm_cost_usd(row.duration_p99_ms, row.memory_mb, row.architecture, prices) * 1e6

    cost = _Series(
        "Cost per million invocations",
        "USD",
        lambda row: row.cost_per_million_usd,
        cost_at_p99,
    )
    duration = _Series(
        "Warm duration",
        "ms",
        lambda row: row.duration_ms,
        lambda row: row.duration_p99_ms if row.measured else None,
    )
    return cost, duration


def render_tuning_chart(result: TuningResult, *, region: str | None = None) -> bytes:
    """The chart of one benchmark result, as a PNG file's bytes."""
    prices = prices_for(region)
    rows = configuration_rows(result, prices)
    curve = [
        ConfigurationRow(
            memory_mb=e.memory_mb,
            architecture=e.architecture,
            duration_ms=e.duration_ms,
            cost_per_invocation_usd=e.cost_per_invocation_usd,
            measured=False,
        )
        for e in result.curve
        if e.duration_ms is not None and e.cost_per_invocation_usd is not None
    ]
    canvas = _Canvas()
    canvas.text((24, 16), f"{result.function_name}: {result.objective.describe()}", 20)
    architectures = sorted(
        {r.architecture for r in rows} | {c.architecture for c in curve}, key=lambda a: a.value
    )
    _legend(canvas, architectures)
    memories = [r.memory_mb for r in rows] + [c.memory_mb for c in curve]
    if not memories:
        canvas.text((WIDTH / 2, HEIGHT / 2), "Nothing was measured.", 18, MUTED, "mm")
        return canvas.png()
    memory_low = max(64.0, min(memories) / 1.25)
    memory_high = min(12800.0, max(memories) * 1.25)
    if memory_high <= memory_low * 1.5:
        memory_low, memory_high = memory_low / 1.5, memory_high * 1.5
    panel_width = (WIDTH - 3 * 90) / 2
    for index, series in enumerate(_series(prices)):
        left = 90 + index * (panel_width + 90)
        values = [
            v
            for row in [*rows, *curve]
            for v in (series.measured(row), series.spread_top(row))
            if v is not None
        ]
        low, high, step = _value_range(values or [1.0])
        panel = _Panel(
            series.title,
            left,
            110,
            left + panel_width,
            HEIGHT - 60,
            memory_low,
            memory_high,
            low,
            high,
        )
        _axes(canvas, panel, step, series.unit)
        _plot(canvas, panel, series, rows, curve, architectures)
    return canvas.png()


def _legend(canvas: _Canvas, architectures: Sequence[Architecture]) -> None:
    x = 24.0
    y = 56.0
    for architecture in architectures:
        colour = SERIES_COLOURS[architecture]
        canvas.line([(x, y), (x + 26, y)], colour, 2.5)
        canvas.circle((x + 13, y), 4.5, fill=colour)
        canvas.text((x + 34, y), f"{architecture.value}: measured (bar to p99), fit", 14, INK, "lm")
        x += 300
    canvas.star((x + 10, y), 9, WINNER)
    canvas.text((x + 26, y), "best", 14, INK, "lm")
    x += 80
    canvas.circle((x + 10, y), 9, outline=INK, width=2)
    canvas.text((x + 26, y), "current", 14, INK, "lm")
    x += 100
    canvas.cross((x + 10, y), 5, FAILED)
    canvas.text((x + 26, y), "failed", 14, INK, "lm")


def _axes(canvas: _Canvas, panel: _Panel, step: float, unit: str) -> None:
    canvas.text((panel.left, panel.top - 22), f"{panel.title} ({unit})", 16, INK, "ls")
    value = panel.value_low
    while value <= panel.value_high + step / 1000:
        y = panel.y(value)
        canvas.line([(panel.left, y), (panel.right, y)], GRID, 1)
        canvas.text((panel.left - 8, y), _label(value), 13, MUTED, "rm")
        value += step
    for memory in MEMORY_TICKS:
        if panel.memory_low <= memory <= panel.memory_high:
            x = panel.x(memory)
            canvas.line([(x, panel.top), (x, panel.bottom)], GRID, 1)
            canvas.text((x, panel.bottom + 8), f"{memory}", 13, MUTED, "ma")
    canvas.line(
        [(panel.left, panel.top), (panel.left, panel.bottom), (panel.right, panel.bottom)], INK, 1.5
    )
    canvas.text(
        ((panel.left + panel.right) / 2, panel.bottom + 30), "memory (MB, log scale)", 13, INK, "ma"
    )


def _plot(
    canvas: _Canvas,
    panel: _Panel,
    series: _Series,
    rows: Sequence[ConfigurationRow],
    curve: Sequence[ConfigurationRow],
    architectures: Sequence[Architecture],
) -> None:
    for architecture in architectures:
        colour = SERIES_COLOURS[architecture]
        fitted = sorted(
            (c for c in curve if c.architecture is architecture), key=lambda c: c.memory_mb
        )
        points = [
            (panel.x(c.memory_mb), panel.y(v))
            for c in fitted
            if (v := series.measured(c)) is not None
        ]
        if len(points) > 1:
            canvas.line(points, colour, 2.5)
        for row in rows:
            if row.architecture is not architecture or not row.measured:
                continue
            value = series.measured(row)
            x = panel.x(row.memory_mb)
            if value is None:
                canvas.cross((x, panel.bottom - 10), 6, FAILED)
                continue
            top = series.spread_top(row)
            if top is not None and top > value:
                canvas.line([(x, panel.y(value)), (x, panel.y(top))], colour, 2)
                canvas.line([(x - 4, panel.y(top)), (x + 4, panel.y(top))], colour, 2)
            canvas.circle((x, panel.y(value)), 5, fill=colour, outline=BACKGROUND, width=1)
    for row in rows:
        value = series.measured(row)
        if value is None:
            continue
        centre = (panel.x(row.memory_mb), panel.y(value))
        if row.current:
            canvas.circle(centre, 11, outline=INK, width=2)
            canvas.text((centre[0], centre[1] + 14), "current", 13, INK, "ma")
        if row.best:
            canvas.star(centre, 12, WINNER)
            label = f"best: {row.memory_mb} MB {row.architecture.value}"
            # Kept inside the panel: a winner at the smallest memory sits next to the axis.
            x = min(max(centre[0], panel.left + 70), panel.right - 70)
            canvas.text((x, centre[1] - 16), label, 13, INK, "md")

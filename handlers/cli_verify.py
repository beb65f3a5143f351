"""``tunebot verify --simulate``: verify a configuration change on simulated traffic.

Verifying a real applied change (``tunebot verify CHANGE_ID``) reads the state table and
CloudWatch; this command is the same statistics on traffic the simulator's physics makes up,
for developing and judging the method without AWS.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handlers.cli_args import positive_int

if TYPE_CHECKING:
    from recommendations.verification.simulate import Prediction
    from recommendations.verification.verdict import MetricChange, Verification

FORMATS = ("table", "json")
ARCHITECTURE_NAMES = ("x86_64", "arm64")
DEFAULT_INVOCATIONS = 2000
Configuration = tuple[int, str | None]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check a configuration change against its effect (simulated traffic)",
        description=(
            "Compare a day of traffic after a change with the matched day a week before it: "
            "cost per invocation, duration percentiles, error, timeout, throttle, "
            "out-of-memory and cold-start rates, init duration; print the verdict."
        ),
    )
    parser.add_argument(
        "--simulate",
        type=Path,
        required=True,
        metavar="PROFILE.json",
        help="a simulated function's profile (as for tunebot tune --simulate)",
    )
    parser.add_argument(
        "--from",
        dest="before",
        type=configuration,
        required=True,
        metavar="MEMORY[,ARCH]",
        help="configuration before the change (architecture: the profile's by default)",
    )
    parser.add_argument(
        "--to",
        dest="after",
        type=configuration,
        required=True,
        metavar="MEMORY[,ARCH]",
        help="configuration after the change",
    )
    parser.add_argument(
        "--invocations",
        type=positive_int,
        default=DEFAULT_INVOCATIONS,
        metavar="N",
        help=f"invocations in each window (default {DEFAULT_INVOCATIONS})",
    )
    parser.add_argument(
        "--hours", type=positive_int, default=24, metavar="H", help="length of each window"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(func=run)


def configuration(text: str) -> Configuration:
    """``512`` or ``512,arm64``."""
    memory_text, comma, architecture = (part.strip() for part in text.partition(","))
    try:
        memory = int(memory_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not MEMORY[,ARCH], for example 512 or 512,arm64"
        ) from None
    if not 128 <= memory <= 10240:
        raise argparse.ArgumentTypeError(f"{memory} MB is outside Lambda's 128–10240 MB")
    if comma and architecture not in ARCHITECTURE_NAMES:
        raise argparse.ArgumentTypeError(f"{architecture!r} is not x86_64 or arm64")
    return memory, architecture or None


def run(args: argparse.Namespace) -> int:
    from recommendations.snapshot import Architecture
    from recommendations.tuning.profile import load_profile
    from recommendations.verification.simulate import predict, simulate_verification

    profile = load_profile(args.simulate)

    def resolved(config: Configuration) -> tuple[int, Architecture]:
        memory, name = config
        return memory, Architecture(name) if name else profile.architecture

    before, after = resolved(args.before), resolved(args.after)
    verification = simulate_verification(
        profile, before, after, args.invocations, args.seed, hours=args.hours
    )
    prediction = predict(profile, before, after)
    document = verification_document(verification, prediction, before, after)
    if args.format == "json":
        print(json.dumps(document, indent=2))
    else:
        print(render_table(verification, prediction, before, after))
    return 0


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def metric_document(change: MetricChange) -> dict[str, Any]:
    # Costs are tiny numbers: keep significant digits, not decimal places.
    digits = 12 if change.metric.value == "cost_per_invocation" else 6
    return {
        "before": _rounded(change.before, digits),
        "after": _rounded(change.after, digits),
        "change_pct": _rounded(change.change_pct, 2),
        "ci_low_pct": _rounded(change.ci_low_pct, 2),
        "ci_high_pct": _rounded(change.ci_high_pct, 2),
        "change": _rounded(change.change, digits),
        "ci_low": _rounded(change.ci_low, digits),
        "ci_high": _rounded(change.ci_high, digits),
        "decides": change.decides,
        "regressed": change.regressed,
        "improved": change.improved,
    }


def verification_document(
    verification: Verification,
    prediction: Prediction,
    before: tuple[int, Any],
    after: tuple[int, Any],
) -> dict[str, Any]:
    """The ``--format json`` document; ``verdict`` and ``metrics`` are the documented contract."""
    return {
        "verdict": verification.verdict.value,
        "reason": None if verification.reason is None else verification.reason.value,
        "summary": verification.summary,
        "from": {"memory_mb": before[0], "architecture": before[1].value},
        "to": {"memory_mb": after[0], "architecture": after[1].value},
        "invocations": {
            "before": verification.before_invocations,
            "after": verification.after_invocations,
        },
        "predicted": {
            "cost_change_pct": round(prediction.cost_change_pct, 2),
            "duration_change_pct": round(prediction.duration_change_pct, 2),
        },
        "regressions": [metric.value for metric in verification.regressions],
        "metrics": {
            metric.value: metric_document(change) for metric, change in verification.metrics.items()
        },
    }


def _figure(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric == "cost_per_invocation":
        return f"${value:.10f}"
    if metric.endswith("_rate"):
        return f"{value * 100:.2f} %"
    return f"{value:,.1f} ms"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f} %"


def render_table(
    verification: Verification,
    prediction: Prediction,
    before: tuple[int, Any],
    after: tuple[int, Any],
) -> str:
    lines = [
        f"{before[0]} MB {before[1].value} → {after[0]} MB {after[1].value}: "
        f"{verification.verdict.value}",
        verification.summary,
        f"Predicted: cost {prediction.cost_change_pct:+.1f} %, "
        f"duration {prediction.duration_change_pct:+.1f} %. "
        f"Measured on {verification.before_invocations} invocations before and "
        f"{verification.after_invocations} after.",
        "",
    ]
    header = f"{'metric':20}  {'before':>15}  {'after':>15}  {'change':>9}  {'95 % CI':>19}  note"
    lines += [header, "-" * len(header)]
    for metric, change in verification.metrics.items():
        interval = (
            f"{_percent(change.ci_low_pct)} … {_percent(change.ci_high_pct)}"
            if change.ci_low_pct is not None
            else "-"
        )
        note = "regression" if change.regressed else ("improved" if change.improved else "")
        if not change.decides and change.before is not None:
            note = "too little data"
        lines.append(
            f"{metric.value:20}  {_figure(metric.value, change.before):>15}  "
            f"{_figure(metric.value, change.after):>15}  {_percent(change.change_pct):>9}  "
            f"{interval:>19}  {note}"
        )
    return "\n".join(lines)

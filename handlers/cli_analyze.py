"""``tunebot analyze``: run the rules over a saved fleet snapshot and print ranked results."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

FORMATS = ("table", "json", "markdown")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse a saved fleet snapshot",
        description=(
            "Run every rule over the functions of a saved fleet snapshot (see docs/snapshot.md) "
            "and print recommendations, ranked by urgency and monthly savings."
        ),
    )
    parser.add_argument("--snapshot", required=True, metavar="FILE", help="snapshot JSON file")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--min-savings",
        type=_non_negative_usd,
        default=None,
        metavar="USD",
        help="only show recommendations saving at least USD a month",
    )
    parser.add_argument(
        "--function", metavar="NAME", default=None, help="analyse only the function NAME"
    )
    parser.set_defaults(func=run)


def _non_negative_usd(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in USD") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or a positive amount in USD")
    return value


def read_snapshot_text(path: Path) -> str:
    from handlers.cli import CliError

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise CliError(f"{path} is a directory, not a snapshot file.") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not a UTF-8 text file.") from None
    except OSError as error:
        raise CliError(f"{path} cannot be read: {error.strerror}.") from None


def run(args: argparse.Namespace) -> int:
    from handlers.cli import CliError
    from recommendations.engine import analyze_fleet
    from recommendations.report_format import (
        render_markdown,
        render_table,
        report_document,
        summarise,
    )
    from recommendations.snapshot_io import parse_fleet_snapshot

    path = Path(args.snapshot)
    fleet = parse_fleet_snapshot(read_snapshot_text(path), source=str(path))
    if args.function is not None:
        selected = tuple(fn for fn in fleet.functions if fn.name == args.function)
        if not selected:
            raise CliError(f"{path} has no function named {args.function!r}.")
        fleet = fleet.model_copy(update={"functions": selected, "errors": {}})

    report = analyze_fleet(fleet)
    recommendations = report.recommendations
    if args.min_savings is not None:
        recommendations = tuple(
            rec for rec in recommendations if (rec.monthly_savings_usd or 0.0) >= args.min_savings
        )
    summary = summarise(report, recommendations)

    if args.format == "json":
        print(json.dumps(report_document(summary, recommendations, report), indent=2))
    elif args.format == "markdown":
        print(render_markdown(summary, recommendations), end="")
    else:
        print(render_table(summary, recommendations), end="")
    return 0

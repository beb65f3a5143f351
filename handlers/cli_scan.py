"""``tunebot scan``: collect snapshots from AWS, analyse them and print ranked results."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FORMATS = ("table", "json", "markdown")
logger = logging.getLogger(__name__)


def _window_days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not math.isfinite(value) or not 1 <= value <= 455:
        # CloudWatch keeps hourly data for 455 days.
        raise argparse.ArgumentTypeError(f"{text!r} must be between 1 and 455 days")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="scan AWS Lambda functions and recommend changes",
        description=(
            "Read every Lambda function of the account boto3 resolves (or the accounts in "
            "TUNEBOT_ACCOUNTS) with its metrics and REPORT log statistics, run the rules and "
            "print ranked recommendations. Honours AWS_ENDPOINT_URL. See docs/scan.md."
        ),
    )
    parser.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="R",
        help="region to scan (repeatable; default: the configured region)",
    )
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME",
        help="scan only this function (repeatable)",
    )
    parser.add_argument("--save-snapshot", metavar="FILE", help="also write the fleet snapshot")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--window-days",
        type=_window_days,
        default=14.0,
        metavar="N",
        help="days of metrics and logs to read (default 14)",
    )
    parser.add_argument(
        "--no-package-scan",
        action="store_true",
        help="skip downloading packages of arm64 candidates to look for x86-only native code",
    )
    parser.set_defaults(func=run)


def package_cache_dir(env: Mapping[str, str]) -> Path:
    """Where package-scan answers persist between runs (XDG cache directory)."""
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tunebot" / "packages"


def _write_snapshot(path: Path, text: str) -> None:
    from handlers.cli import CliError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}.") from None


def _store_recommendations(report: Any, fleet: Any) -> int:
    """Keep apply-able recommendations so ``tunebot apply ID`` finds them; count stored."""
    from aws.store import StateStore

    store = StateStore.from_environment()
    by_arn = {fn.arn: fn for fn in fleet.functions}
    stored = 0
    for rec in report.recommendations:
        if rec.change is None:
            continue
        store.put_recommendation(rec, by_arn.get(rec.function_arn), requested_by="cli:scan")
        stored += 1
    return stored


def run(args: argparse.Namespace) -> int:
    from aws.package_scan import PackageScanner
    from aws.scan import ScanOptions, merge_snapshots, scan_targets
    from aws.session import AwsSession, account_targets
    from handlers.cli import CliError
    from recommendations.engine import analyze_fleet
    from recommendations.report_format import (
        render_markdown,
        render_table,
        report_document,
        summarise,
    )

    options = ScanOptions(
        window_days=args.window_days,
        function_names=tuple(args.function),
        scan_packages=not args.no_package_scan,
    )
    outcome = scan_targets(
        account_targets(os.environ),
        args.region,
        options,
        base=AwsSession(),
        scanner=PackageScanner(cache_dir=package_cache_dir(os.environ)),
    )
    fleet = merge_snapshots(outcome.snapshots, outcome.failures)

    if args.function:
        found = {fn.name for fn in fleet.functions}
        missing = [name for name in args.function if name not in found]
        if missing:
            reasons = [
                sentence
                for key, sentence in fleet.errors.items()
                if key.rsplit("/", 1)[-1] == missing[0]
            ]
            raise CliError(reasons[0] if reasons else f"Function '{missing[0]}' was not found.", 1)

    if args.save_snapshot:
        _write_snapshot(Path(args.save_snapshot), fleet.model_dump_json(indent=2) + "\n")

    report = analyze_fleet(fleet)
    if os.environ.get("TUNEBOT_TABLE"):
        stored = _store_recommendations(report, fleet)
        logger.info("stored %d recommendations in %s", stored, os.environ["TUNEBOT_TABLE"])
    summary = summarise(report, report.recommendations)
    if args.format == "json":
        print(json.dumps(report_document(summary, report.recommendations, report), indent=2))
    elif args.format == "markdown":
        print(render_markdown(summary, report.recommendations), end="")
    else:
        print(render_table(summary, report.recommendations), end="")
    # Functions that could not be read are in the report itself ("Not analysed", or
    # summary.errors in JSON).
    return 0

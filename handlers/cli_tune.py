"""``tunebot tune``: benchmark a function (or a simulated one) and pick memory and architecture."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from handlers.cli_args import positive_int

if TYPE_CHECKING:
    from recommendations.tuning.observation import Probe
    from recommendations.tuning.request import TuningRequest, TuningState
    from recommendations.tuning.result import ConfigurationEstimate, TuningResult

STRATEGIES = ("cost", "speed", "balanced", "fastest-within")
SEARCHES = ("adaptive", "grid")
FORMATS = ("table", "json")
ARCHITECTURE_NAMES = ("x86_64", "arm64")
TRAFFIC_WINDOW_DAYS = 14


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="benchmark a function and find its best memory and architecture",
        description=(
            "Invoke FUNCTION at several memory sizes (and architectures) and pick the best "
            "configuration for a strategy. By default a temporary copy of the function is "
            "benchmarked and deleted afterwards; --simulate uses a simulated function instead."
        ),
    )
    parser.add_argument(
        "function",
        metavar="FUNCTION",
        type=_function_spec,
        help="function name or ARN, optionally with a version or alias (my-fn:live)",
    )
    parser.add_argument("--strategy", choices=STRATEGIES, default="cost")
    parser.add_argument(
        "--balanced-weight",
        type=_fraction,
        default=0.5,
        metavar="W",
        help="balanced strategy: weight of cost between 0 (speed only) and 1 (cost only)",
    )
    parser.add_argument(
        "--within-percent",
        type=_non_negative,
        default=10.0,
        metavar="X",
        help="fastest-within strategy: the fastest configuration costing at most X%% more",
    )
    parser.add_argument(
        "--max-duration",
        type=_positive,
        default=None,
        metavar="MS",
        help="only configurations whose duration stays under MS milliseconds",
    )
    parser.add_argument(
        "--duration-statistic",
        choices=("average", "p99"),
        default="average",
        help="which duration --max-duration limits",
    )
    parser.add_argument("--search", choices=SEARCHES, default="adaptive")
    parser.add_argument(
        "--memory-values",
        type=_memory_values,
        default=None,
        metavar="MB,MB,...",
        help="grid search: memory sizes (default 128,256,512,1024,1536,3008)",
    )
    parser.add_argument(
        "--num", type=positive_int, default=20, metavar="N", help="grid: invocations per value"
    )
    parser.add_argument(
        "--architectures",
        type=_architectures,
        default=None,
        metavar="ARCH,ARCH",
        help="x86_64, arm64 or both (default: the function's current architecture)",
    )
    parser.add_argument(
        "--payload",
        action="append",
        type=_payload_spec,
        default=None,
        metavar="FILE[:WEIGHT]",
        help=(
            "event JSON (or Power Tuning's weighted list); repeat with weights to mix "
            "several events, e.g. --payload a.json:3 --payload b.json:1"
        ),
    )
    parser.add_argument(
        "--allowed-errors",
        type=_error_types,
        default=(),
        metavar="TYPE,TYPE",
        help=(
            "error types (the function's errorType) that count as measured invocations, "
            "not failures, like Power Tuning's allowedExceptions"
        ),
    )
    parser.add_argument(
        "--simulate",
        type=Path,
        default=None,
        metavar="PROFILE.json",
        help="benchmark a simulated function described by a profile (no AWS calls)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    parser.add_argument("--max-invocations", type=positive_int, default=None, metavar="N")
    parser.add_argument(
        "--max-cost",
        type=_positive,
        default=None,
        metavar="USD",
        help="never spend more: each invocation is priced at its timeout before it runs",
    )
    parser.add_argument(
        "--max-time",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="total time the function may run during the benchmark (worst case checked)",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="benchmark the function itself through versions and aliases, then restore it",
    )
    parser.add_argument(
        "--invocations-per-month",
        type=_non_negative,
        default=None,
        metavar="N",
        help=(
            "traffic to price monthly figures with (default: the last 14 days in CloudWatch, "
            "or the simulated profile's)"
        ),
    )
    parser.add_argument("--region", default=None, help="AWS region of the function")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--chart", type=Path, default=None, metavar="FILE.png")
    parser.set_defaults(func=run)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above zero")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_QUALIFIER = re.compile(r"\$LATEST|[A-Za-z0-9_-]{1,128}")


def _function_spec(text: str) -> str:
    """A name or ARN, with an optional version or alias; checked here, used as given."""
    base, qualifier = split_qualifier(text)
    name = base.rsplit(":", 1)[-1] if base.startswith("arn:") else base
    if not _NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Lambda function name or ARN")
    if qualifier is not None and not _QUALIFIER.fullmatch(qualifier):
        raise argparse.ArgumentTypeError(f"{qualifier!r} is not a version or alias name")
    return text


def split_qualifier(text: str) -> tuple[str, str | None]:
    """``my-fn:live`` → (``my-fn``, ``live``); ARNs keep their first seven fields."""
    if text.startswith("arn:"):
        parts = text.split(":")
        if len(parts) == 8:
            return ":".join(parts[:7]), parts[7]
        if len(parts) != 7 or parts[5] != "function":
            raise argparse.ArgumentTypeError(f"{text!r} is not a Lambda function ARN")
        return text, None
    name, colon, qualifier = text.partition(":")
    if not colon:
        return text, None
    if ":" in qualifier:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give the function's name or full ARN (with :VERSION or :ALIAS)"
        )
    return name, qualifier


def _payload_spec(text: str) -> tuple[Path, float]:
    from aws.invokers.payload import PayloadError, parse_payload_spec

    try:
        return parse_payload_spec(text)
    except PayloadError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _error_types(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError("name at least one error type")
    return names


def _memory_values(text: str) -> tuple[int, ...]:
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a memory size in MB") from None
        if not 128 <= value <= 10240:
            raise argparse.ArgumentTypeError(f"{value} MB is outside Lambda's 128–10240 MB")
        if value in values:
            raise argparse.ArgumentTypeError(f"{value} MB is listed twice")
        values.append(value)
    return tuple(values)


def _architectures(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if name not in ARCHITECTURE_NAMES:
            raise argparse.ArgumentTypeError(f"{name!r} is not x86_64 or arm64")
    if not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("name x86_64, arm64 or both, once each")
    return names


def _build_request(
    args: argparse.Namespace,
    *,
    current_memory_mb: int,
    current_architecture: str,
    region: str | None,
    invocations_per_month: float | None,
    timeout_s: int | None = None,
) -> TuningRequest:
    from recommendations.snapshot import Architecture
    from recommendations.tuning.objective import DurationStatistic, Objective, Strategy
    from recommendations.tuning.request import (
        POWER_TUNING_MEMORY_VALUES,
        SearchKind,
        TuningRequest,
    )

    objective = Objective(
        strategy=Strategy(args.strategy),
        balanced_weight=args.balanced_weight,
        within_percent=args.within_percent,
        max_duration_ms=args.max_duration,
        duration_statistic=DurationStatistic(args.duration_statistic),
    )
    names = args.architectures or (current_architecture,)
    return TuningRequest(
        function_name=args.function,
        region=region,
        search=SearchKind(args.search),
        objective=objective,
        architectures=tuple(Architecture(name) for name in names),
        memory_values=args.memory_values or POWER_TUNING_MEMORY_VALUES,
        num=args.num,
        current_memory_mb=current_memory_mb,
        current_architecture=Architecture(current_architecture),
        invocations_per_month=(
            args.invocations_per_month
            if args.invocations_per_month is not None
            else invocations_per_month
        ),
        timeout_ms=None if timeout_s is None else timeout_s * 1000.0,
        max_invocations=args.max_invocations,
        max_cost_usd=args.max_cost,
        max_time_s=args.max_time,
        allowed_errors=args.allowed_errors,
        seed=args.seed,
    )


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, stream: TextIO, expected: int | None) -> None:
        self.stream = stream
        self.expected = expected
        self.enabled = stream.isatty()

    def __call__(self, state: TuningState, probes: Sequence[Probe]) -> None:
        if not self.enabled:
            return
        done = len(state.observations)
        coming = sum(p.count for p in probes)
        total = self.expected or (done + coming)
        width = 30
        filled = min(width, int(width * done / max(total, 1)))
        where = ", ".join(f"{p.memory_mb} MB {p.architecture.value}" for p in probes[:3])
        more = "…" if len(probes) > 3 else ""
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done} invocations; next {where}{more}"
            + " " * 8
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from handlers.cli import CliError

    if args.simulate is not None and args.in_place:
        raise CliError("--in-place benchmarks a real function; it cannot be used with --simulate.")
    if args.search != "grid" and args.memory_values is not None:
        raise CliError("--memory-values is for --search grid; adaptive search picks its own.")
    if args.chart is not None and not args.chart.parent.is_dir():
        # Checked first: a benchmark's invocations are not worth losing to a missing folder.
        raise CliError(f"Cannot write the chart to {args.chart}: no folder {args.chart.parent}.")
    outcome = _run_simulated(args) if args.simulate is not None else _run_on_lambda(args)
    result, recommendations = outcome
    if args.chart is not None:
        write_chart(result, args.chart, region=args.region)
    if args.format == "json":
        print(json.dumps(result_document(result, recommendations), indent=2))
    else:
        print(render_table(result))
    return 0 if result.best is not None else 1


def _run_simulated(args: argparse.Namespace) -> tuple[TuningResult, list[dict[str, Any]]]:
    from aws.invokers.simulator import SimulatorInvoker
    from recommendations.tuning.outcome import result as build_result
    from recommendations.tuning.profile import load_profile
    from recommendations.tuning.search import run as run_search
    from recommendations.tuning.search import start

    if args.payload is not None:
        raise _cli_error("--payload has no effect on a simulated function; leave it out.")
    profile = load_profile(args.simulate)
    request = _build_request(
        args,
        current_memory_mb=profile.memory_mb,
        current_architecture=profile.architecture.value,
        region=args.region,
        invocations_per_month=profile.invocations_per_month,
        timeout_s=profile.timeout_s,
    )
    progress = Progress(sys.stderr, _expected_invocations(request))
    try:
        state = run_search(start(request), SimulatorInvoker(profile, seed=args.seed), progress)
    finally:
        progress.close()
    outcome = build_result(state)
    return outcome, _recommendation_documents(
        outcome,
        function_arn=f"arn:aws:lambda:{args.region or 'us-east-1'}:123456789012:function:"
        f"{args.function}",
        region=args.region or "us-east-1",
        account_id="123456789012",
        request=request,
    )


def _cli_error(message: str) -> Exception:
    from handlers.cli import CliError

    return CliError(message)


def _run_on_lambda(args: argparse.Namespace) -> tuple[TuningResult, list[dict[str, Any]]]:
    from aws.invokers.lambda_invoker import LambdaBenchmark
    from aws.invokers.payload import load_weighted_payloads
    from recommendations.tuning.outcome import result as build_result
    from recommendations.tuning.search import run as run_search
    from recommendations.tuning.search import start

    payloads = load_weighted_payloads(args.payload or [])
    _, qualifier = split_qualifier(args.function)
    if qualifier is not None and args.in_place:
        raise _cli_error(
            f"--in-place benchmarks $LATEST, not {args.function}; leave out --in-place to "
            "benchmark a copy of that version."
        )
    with LambdaBenchmark(
        args.function, region=args.region, in_place=args.in_place, payloads=payloads
    ) as benchmark:
        function = benchmark.function
        traffic = None
        if args.invocations_per_month is None:
            traffic = _observed_traffic(function.name, function.region)
        request = _build_request(
            args,
            current_memory_mb=function.memory_mb,
            current_architecture=function.architecture.value,
            region=function.region,
            invocations_per_month=traffic,
            timeout_s=function.timeout_s,
        )
        if args.in_place and set(request.architectures) != {request.current_architecture}:
            raise _cli_error(
                "--in-place benchmarks the current architecture only; drop --architectures "
                "or benchmark a copy (the default)."
            )
        progress = Progress(sys.stderr, _expected_invocations(request))
        try:
            state = run_search(start(request), benchmark, progress)
        finally:
            progress.close()
    outcome = build_result(state)
    # Changes go to the function itself (a version is immutable; an alias follows it).
    unqualified = ":".join(function.arn.split(":")[:7])
    return outcome, _recommendation_documents(
        outcome.model_copy(update={"function_name": function.name}),
        function_arn=unqualified,
        region=function.region,
        account_id=function.account_id,
        request=request,
    )


def _observed_traffic(function_name: str, region: str) -> float | None:
    """Invocations a month over the last 14 days (CloudWatch), or None when unknown."""
    from datetime import UTC, datetime, timedelta

    from aws.errors import AwsError
    from aws.metrics import collect_metrics
    from aws.session import AwsSession
    from recommendations.snapshot import DAYS_PER_MONTH

    end = datetime.now(UTC)
    window = timedelta(days=TRAFFIC_WINDOW_DAYS)
    try:
        figures = collect_metrics(
            AwsSession(region=region), [function_name], start=end - window, end=end
        )
    except AwsError:
        return None
    invocations = figures.for_function(function_name).get("invocations")
    if invocations is None:
        return None
    return invocations / TRAFFIC_WINDOW_DAYS * DAYS_PER_MONTH


def _expected_invocations(request: TuningRequest) -> int | None:
    from recommendations.tuning.adaptive import DEFAULT_MAX_PER_ARCHITECTURE
    from recommendations.tuning.request import SearchKind

    if request.search is SearchKind.GRID:
        planned = len(request.memory_values) * request.num * len(request.architectures)
    else:
        # The adaptive search's usual allowance; it often stops well before.
        planned = DEFAULT_MAX_PER_ARCHITECTURE * len(request.architectures)
    return min(planned, request.max_invocations or planned)


def _recommendation_documents(
    outcome: TuningResult,
    *,
    function_arn: str,
    region: str,
    account_id: str,
    request: TuningRequest,
) -> list[dict[str, Any]]:
    from recommendations.tuning.recommend import recommendations_from_result

    return [
        r.model_dump(mode="json")
        for r in recommendations_from_result(
            outcome,
            function_arn=function_arn,
            region=region,
            account_id=account_id,
            current_memory_mb=request.current_memory_mb,
            current_architecture=request.current_architecture,
        )
    ]


def _estimate_document(estimate: ConfigurationEstimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return estimate.model_dump(mode="json")


def result_document(result: TuningResult, recommendations: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``--format json`` document; ``best``, ``invocations``, ``tuning_cost_usd`` and
    ``results`` are the documented contract."""
    return {
        "function": result.function_name,
        "search": result.search.value,
        "strategy": result.objective.strategy.value,
        "objective": result.objective.describe(),
        "best": _estimate_document(result.best),
        "current": _estimate_document(result.current),
        "monthly_savings_usd": result.monthly_savings_usd,
        "invocations": result.invocations,
        "gb_seconds": round(result.gb_seconds, 4),
        "tuning_cost_usd": round(result.tuning_cost_usd, 8),
        "confidence": result.confidence.value,
        "confidence_statement": result.confidence_statement,
        "stop_reason": result.stop_reason,
        "stopped_by": None if result.stopped_by is None else result.stopped_by.value,
        "max_memory_used_mb": result.max_memory_used_mb,
        "results": [estimate.model_dump(mode="json") for estimate in result.results],
        "recommendations": recommendations,
    }


def _usd(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if abs(value) < 0.01:
        return f"${value:.8f}"
    return f"${value:,.{digits}f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def render_table(result: TuningResult) -> str:
    lines: list[str] = []
    lines.append(
        f"{result.function_name}: {result.search.value} search, {result.objective.describe()}"
    )
    lines.append("")
    header = (
        f"{'memory':>8}  {'arch':7}  {'runs':>4}  {'warm':>4}  {'avg duration':>13}  "
        f"{'p99':>11}  {'cost/invocation':>15}  {'per month':>11}  note"
    )
    lines.append(header)
    lines.append("-" * len(header))
    best_key = (result.best.memory_mb, result.best.architecture) if result.best else None
    for estimate in sorted(result.results, key=lambda e: (e.architecture.value, e.memory_mb)):
        note = ""
        if estimate.failures:
            note = ", ".join(
                f"{count} × {kind.replace('_', ' ')}" for kind, count in estimate.failures.items()
            )
        if estimate.error is None and not estimate.feasible:
            note = "under 10% memory headroom"
        if (estimate.memory_mb, estimate.architecture) == best_key:
            note = (note + " best").strip()
        lines.append(
            f"{estimate.memory_mb:>5} MB  {estimate.architecture.value:7}  "
            f"{estimate.invocations:>4}  {estimate.warm_invocations:>4}  "
            f"{_ms(estimate.duration_ms):>13}  {_ms(estimate.duration_p99_ms):>11}  "
            f"{_usd(estimate.cost_per_invocation_usd):>15}  "
            f"{_usd(estimate.monthly_cost_usd):>11}  {note}"
        )
    lines.append("")
    if result.best is None:
        lines.append(f"No configuration could be recommended ({result.stop_reason}).")
    else:
        best = result.best
        lines.append(
            f"Best: {best.memory_mb} MB on {best.architecture.value}: "
            f"{_ms(best.duration_ms)} on average, {_usd(best.cost_per_invocation_usd)} per "
            f"invocation"
            + (f", {_usd(best.monthly_cost_usd)} a month" if best.monthly_cost_usd else "")
        )
        if result.current is not None:
            current = result.current
            lines.append(
                f"Now:  {current.memory_mb} MB on {current.architecture.value}: "
                f"{_ms(current.duration_ms)} on average, "
                f"{_usd(current.cost_per_invocation_usd)} per invocation"
                + (
                    f", {_usd(current.monthly_cost_usd)} a month"
                    if current.monthly_cost_usd
                    else ""
                )
            )
        if result.monthly_savings_usd is not None:
            lines.append(f"Monthly saving: {_usd(result.monthly_savings_usd)}")
    lines.append(f"Confidence: {result.confidence.value}. {result.confidence_statement}".rstrip())
    lines.append(
        f"Spent: {result.invocations} invocations, {result.gb_seconds:,.1f} GB-s, "
        f"{_usd(result.tuning_cost_usd, 4)}."
    )
    if result.stopped_by is not None:
        lines.append(f"The run was stopped by a cap: {result.stop_reason}.")
    else:
        lines.append(f"The search ended by itself: {result.stop_reason}.")
    return "\n".join(lines)


def write_chart(result: TuningResult, path: Path, *, region: str | None = None) -> None:
    """The benchmark chart (charts.tuning_chart), the same picture the Slack card shows."""
    from charts.tuning_chart import render_tuning_chart

    try:
        path.write_bytes(render_tuning_chart(result, region=region))
    except OSError as error:
        raise _cli_error(f"Cannot write the chart to {path}: {error.strerror or error}.") from None

"""Tuning quality per strategy: adaptive search against a Power Tuning grid, on simulated functions.

For every profile in ``benchmarks/profiles``, several seeds and every strategy, the adaptive
search tunes the simulated function over x86_64 and arm64; a Power Tuning grid measures the
same function once per seed and is judged under every strategy. The regret of a choice is how
much worse it is than the true optimum for the strategy, both from the simulator's physics
(``recommendations.tuning.physics.strategy_regret``):

- cost: expected cost ÷ the optimum's − 1;
- speed: expected duration ÷ the optimum's − 1;
- balanced (weight 0.5): score ÷ the optimum's − 1, score = w × cost / min cost +
  (1 − w) × duration / min duration over every feasible configuration;
- fastest-within 10%: duration ÷ the optimum's − 1, plus the share by which the expected cost
  exceeds 1.1 × the cheapest feasible expected cost.

    .venv/bin/python benchmarks/tuning.py [--seeds 5] [--profile NAME ...] [--strategy S ...]

Targets (issue 16): for every strategy, median regret ≤ 2% and 90th percentile ≤ 5%; "high"
confidence right (within 1%) in ≥ 95% of the runs that report it; fastest-within never above
1.1 × the cheapest measured configuration; mean invocations ≤ 0.30 × the grid's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aws.invokers.simulator import SimulatorInvoker
from recommendations.recommendation import Confidence
from recommendations.snapshot import Architecture
from recommendations.tuning.objective import Candidate, Objective, Strategy
from recommendations.tuning.outcome import result
from recommendations.tuning.physics import feasible_candidates, strategy_regret
from recommendations.tuning.profile import SimulationProfile, load_profile
from recommendations.tuning.request import SearchKind, TuningRequest, TuningState
from recommendations.tuning.result import TuningResult
from recommendations.tuning.search import run, start

PROFILES = Path(__file__).resolve().parent / "profiles"
ARCHITECTURES = (Architecture.X86_64, Architecture.ARM64)
# The grid the adaptive search is compared with (the project's Power Tuning comparison).
GRID_VALUES = (128, 256, 512, 1024, 1536, 3008)
GRID_NUM = 20
# A stock Power Tuning run: 7 memory values × num 10 per architecture, before its aborts.
POWER_TUNING_NOMINAL = 7 * 10
OBJECTIVES = {
    "cost": Objective(strategy=Strategy.COST),
    "balanced": Objective(strategy=Strategy.BALANCED, balanced_weight=0.5),
    "speed": Objective(strategy=Strategy.SPEED),
    "fastest-within": Objective(strategy=Strategy.FASTEST_WITHIN, within_percent=10.0),
}
HIGH_WITHIN = 0.01


@dataclass
class Outcome:
    profile: str
    seed: int
    strategy: str
    memory_mb: int | None
    architecture: str
    regret: float
    invocations: int
    gb_seconds: float
    seconds: float
    confidence: Confidence
    # fastest-within only: best cost ÷ the cheapest measured configuration's (None otherwise).
    cost_over_cheapest_measured: float | None = None


def _request(
    profile: SimulationProfile, name: str, seed: int, search: SearchKind, objective: Objective
) -> TuningRequest:
    return TuningRequest(
        function_name=name,
        search=search,
        objective=objective,
        architectures=ARCHITECTURES,
        memory_values=GRID_VALUES,
        num=GRID_NUM,
        current_memory_mb=profile.memory_mb,
        current_architecture=profile.architecture,
        invocations_per_month=profile.invocations_per_month,
        timeout_ms=profile.timeout_s * 1000.0,
        seed=seed,
    )


def cheapest_measured(outcome: TuningResult) -> float | None:
    costs = [
        r.cost_per_invocation_usd
        for r in outcome.results
        if r.feasible and r.cost_per_invocation_usd is not None
    ]
    return min(costs) if costs else None


def judge(
    outcome: TuningResult,
    profile: SimulationProfile,
    name: str,
    seed: int,
    strategy: str,
    candidates: list[Candidate],
    seconds: float,
) -> Outcome:
    best = outcome.best
    objective = OBJECTIVES[strategy]
    over = None
    if objective.strategy is Strategy.FASTEST_WITHIN and best is not None:
        cheapest = cheapest_measured(outcome)
        if cheapest and best.cost_per_invocation_usd is not None:
            over = best.cost_per_invocation_usd / cheapest
    return Outcome(
        profile=name,
        seed=seed,
        strategy=strategy,
        memory_mb=best.memory_mb if best else None,
        architecture=best.architecture.value if best else "-",
        regret=strategy_regret(
            profile,
            best.memory_mb,
            best.architecture,
            objective,
            ARCHITECTURES,
            candidates=candidates,
        )
        if best
        else float("inf"),
        invocations=outcome.invocations,
        gb_seconds=outcome.gb_seconds,
        seconds=seconds,
        confidence=outcome.confidence,
        cost_over_cheapest_measured=over,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--profile", action="append", help="profile name (default: all)")
    parser.add_argument(
        "--strategy", action="append", choices=list(OBJECTIVES), help="default: all"
    )
    parser.add_argument("--verbose", action="store_true", help="print every run")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    paths = sorted(PROFILES.glob("*.json"))
    if args.profile:
        paths = [p for p in paths if p.stem in args.profile]
    strategies = args.strategy or list(OBJECTIVES)
    adaptive: list[Outcome] = []
    grid: list[Outcome] = []
    for path in paths:
        profile = load_profile(path)
        name = path.stem
        offered = feasible_candidates(profile, ARCHITECTURES)
        for seed in range(1, args.seeds + 1):
            grid_state = run(
                start(_request(profile, name, seed, SearchKind.GRID, OBJECTIVES["cost"])),
                SimulatorInvoker(profile, seed=seed),
            )
            for strategy in strategies:
                objective = OBJECTIVES[strategy]
                judged = TuningState.model_validate(
                    grid_state.model_copy(
                        update={
                            "request": grid_state.request.model_copy(
                                update={"objective": objective}
                            )
                        }
                    )
                )
                grid.append(judge(result(judged), profile, name, seed, strategy, offered, 0.0))
                clock = time.perf_counter()
                state = run(
                    start(_request(profile, name, seed, SearchKind.ADAPTIVE, objective)),
                    SimulatorInvoker(profile, seed=seed),
                )
                outcome = result(state)
                mine = judge(
                    outcome, profile, name, seed, strategy, offered, time.perf_counter() - clock
                )
                adaptive.append(mine)
                if args.verbose:
                    print(
                        f"{strategy:15} {name:20} {seed:>3} {mine.memory_mb!s:>6} "
                        f"{mine.architecture:7} {_pct(mine.regret):>8} {mine.invocations:>4} "
                        f"{mine.confidence.value}"
                    )
    grid_invocations = {(g.profile, g.seed): g.invocations for g in grid}
    mean_grid = statistics.mean(grid_invocations.values())
    for strategy in strategies:
        mine = [a for a in adaptive if a.strategy == strategy]
        theirs = [g for g in grid if g.strategy == strategy]
        print()
        print(f"## {strategy} ({OBJECTIVES[strategy].describe()})")
        print()
        print(
            f"| {'profile':20} | adaptive median | p90 | worst | invocations | "
            "grid median | grid worst |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name in dict.fromkeys(a.profile for a in mine):
            rows = [a for a in mine if a.profile == name]
            grid_rows = [g for g in theirs if g.profile == name]
            regrets = [a.regret for a in rows]
            print(
                f"| {name:20} | {_pct(statistics.median(regrets))} | "
                f"{_pct(percentile(regrets, 0.9))} | {_pct(max(regrets))} | "
                f"{statistics.mean(a.invocations for a in rows):.0f} | "
                f"{_pct(statistics.median(g.regret for g in grid_rows))} | "
                f"{_pct(max(g.regret for g in grid_rows))} |"
            )
        regrets = [a.regret for a in mine]
        grid_regrets = [g.regret for g in theirs]
        invocations = statistics.mean(a.invocations for a in mine)
        high = [a for a in mine if a.confidence is Confidence.HIGH]
        right = sum(1 for a in high if a.regret <= HIGH_WITHIN)
        print()
        print(
            f"{strategy}: {len(mine)} runs; adaptive regret median "
            f"{_pct(statistics.median(regrets))}, "
            f"p90 {_pct(percentile(regrets, 0.9))}, max {_pct(max(regrets))}; "
            f"grid median {_pct(statistics.median(grid_regrets))}, "
            f"p90 {_pct(percentile(grid_regrets, 0.9))}"
        )
        print(
            f"{strategy}: invocations {invocations:.1f}, ratio to the grid "
            f"({mean_grid:.1f}) {invocations / mean_grid:.3f}, to a stock Power Tuning run "
            f"(7 values × num 10 × {len(ARCHITECTURES)} architectures = "
            f"{POWER_TUNING_NOMINAL * len(ARCHITECTURES)}) "
            f"{invocations / (POWER_TUNING_NOMINAL * len(ARCHITECTURES)):.3f}"
        )
        calibration = f"{right / len(high) * 100:.0f}%" if high else "-"
        print(
            f"{strategy}: confidence high in {len(high)} runs, within 1% in {right} "
            f"({calibration}); medium {sum(1 for a in mine if a.confidence is Confidence.MEDIUM)}"
            f", low {sum(1 for a in mine if a.confidence is Confidence.LOW)}"
        )
        if OBJECTIVES[strategy].strategy is Strategy.FASTEST_WITHIN:
            limit = 1 + OBJECTIVES[strategy].within_percent / 100
            overs = [a.cost_over_cheapest_measured or 0.0 for a in mine]
            print(
                f"{strategy}: cost above {limit:g} × the cheapest measured in "
                f"{sum(1 for o in overs if o > limit + 1e-9)} of {len(mine)} runs "
                f"(highest ratio {max(overs):.3f})"
            )
    every_high = [a for a in adaptive if a.confidence is Confidence.HIGH]
    if every_high:
        right = sum(1 for a in every_high if a.regret <= HIGH_WITHIN)
        print()
        print(
            f"all strategies: 'high' confidence within 1% of the optimum in {right} of "
            f"{len(every_high)} runs ({right / len(every_high) * 100:.1f}%)"
        )
    print(
        f"benchmark time {time.perf_counter() - began:.0f} s; adaptive search per run "
        f"{statistics.mean(a.seconds for a in adaptive):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

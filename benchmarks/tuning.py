"""Tuning quality: adaptive search against a Power Tuning grid, on simulated functions.

For every profile in ``benchmarks/profiles`` and several seeds, both searches tune the same
simulated function over x86_64 and arm64 with the cost strategy. The regret of a choice is
its expected cost ÷ the true optimum's − 1, both from the simulator's physics.

    .venv/bin/python benchmarks/tuning.py [--seeds 5] [--profile NAME ...]

Targets (issue 4): adaptive median regret ≤ 1.5%, 90th percentile ≤ 4%, on average at most a
third of the grid's invocations, and no worse than the grid by more than 0.5 points in at
least 80% of the cases.
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
from recommendations.snapshot import Architecture
from recommendations.tuning.outcome import result
from recommendations.tuning.physics import regret
from recommendations.tuning.profile import SimulationProfile, load_profile
from recommendations.tuning.request import SearchKind, TuningRequest
from recommendations.tuning.search import run, start

PROFILES = Path(__file__).resolve().parent / "profiles"
ARCHITECTURES = (Architecture.X86_64, Architecture.ARM64)
GRID_VALUES = (128, 256, 512, 1024, 1536, 3008)


@dataclass
class Outcome:
    profile: str
    seed: int
    search: SearchKind
    memory_mb: int | None
    architecture: str
    regret: float
    invocations: int
    gb_seconds: float
    seconds: float


def tune(profile: SimulationProfile, name: str, seed: int, search: SearchKind) -> Outcome:
    request = TuningRequest(
        function_name=name,
        search=search,
        architectures=ARCHITECTURES,
        memory_values=GRID_VALUES,
        num=20,
        current_memory_mb=profile.memory_mb,
        current_architecture=profile.architecture,
        invocations_per_month=profile.invocations_per_month,
        seed=seed,
    )
    began = time.perf_counter()
    state = run(start(request), SimulatorInvoker(profile, seed=seed))
    outcome = result(state)
    elapsed = time.perf_counter() - began
    best = outcome.best
    return Outcome(
        profile=name,
        seed=seed,
        search=search,
        memory_mb=best.memory_mb if best else None,
        architecture=best.architecture.value if best else "-",
        regret=regret(profile, best.memory_mb, best.architecture, ARCHITECTURES)
        if best
        else float("inf"),
        invocations=outcome.invocations,
        gb_seconds=outcome.gb_seconds,
        seconds=elapsed,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--profile", action="append", help="profile name (default: all)")
    args = parser.parse_args(argv)
    paths = sorted(PROFILES.glob("*.json"))
    if args.profile:
        paths = [p for p in paths if p.stem in args.profile]
    rows: list[tuple[Outcome, Outcome]] = []
    print(
        f"{'profile':20} {'seed':>4} | {'adaptive choice':>16} {'regret':>7} {'inv':>4} "
        f"{'GB-s':>7} | {'grid choice':>16} {'regret':>7} {'inv':>4} {'GB-s':>7}"
    )
    for path in paths:
        profile = load_profile(path)
        for seed in range(1, args.seeds + 1):
            adaptive = tune(profile, path.stem, seed, SearchKind.ADAPTIVE)
            grid = tune(profile, path.stem, seed, SearchKind.GRID)
            rows.append((adaptive, grid))
            print(
                f"{path.stem:20} {seed:>4} | "
                f"{adaptive.memory_mb!s:>7} {adaptive.architecture:>8} "
                f"{adaptive.regret * 100:>6.2f}% {adaptive.invocations:>4} "
                f"{adaptive.gb_seconds:>7.1f} | "
                f"{grid.memory_mb!s:>7} {grid.architecture:>8} {grid.regret * 100:>6.2f}% "
                f"{grid.invocations:>4} {grid.gb_seconds:>7.1f}"
            )
    print()
    print(
        f"{'profile':20} | {'adaptive median':>15} {'worst':>7} {'inv':>5} | "
        f"{'grid median':>11} {'worst':>7} {'inv':>5}"
    )
    for name in dict.fromkeys(a.profile for a, _ in rows):
        mine = [(a, g) for a, g in rows if a.profile == name]
        print(
            f"{name:20} | "
            f"{statistics.median(a.regret for a, _ in mine) * 100:>14.2f}% "
            f"{max(a.regret for a, _ in mine) * 100:>6.2f}% "
            f"{statistics.mean(a.invocations for a, _ in mine):>5.0f} | "
            f"{statistics.median(g.regret for _, g in mine) * 100:>10.2f}% "
            f"{max(g.regret for _, g in mine) * 100:>6.2f}% "
            f"{statistics.mean(g.invocations for _, g in mine):>5.0f}"
        )
    adaptive_regrets = [a.regret for a, _ in rows]
    grid_regrets = [g.regret for _, g in rows]
    adaptive_invocations = statistics.mean(a.invocations for a, _ in rows)
    grid_invocations = statistics.mean(g.invocations for _, g in rows)
    not_worse = sum(1 for a, g in rows if a.regret <= g.regret + 0.005) / len(rows)
    print()
    print(f"cases: {len(rows)}")
    print(
        f"adaptive regret: median {statistics.median(adaptive_regrets) * 100:.2f}%, "
        f"p90 {percentile(adaptive_regrets, 0.9) * 100:.2f}%, "
        f"max {max(adaptive_regrets) * 100:.2f}%"
    )
    print(
        f"grid regret:     median {statistics.median(grid_regrets) * 100:.2f}%, "
        f"p90 {percentile(grid_regrets, 0.9) * 100:.2f}%, max {max(grid_regrets) * 100:.2f}%"
    )
    print(
        f"invocations: adaptive {adaptive_invocations:.1f}, grid {grid_invocations:.1f} "
        f"(ratio {adaptive_invocations / grid_invocations:.3f})"
    )
    print(
        f"GB-seconds: adaptive {statistics.mean(a.gb_seconds for a, _ in rows):.1f}, "
        f"grid {statistics.mean(g.gb_seconds for _, g in rows):.1f}"
    )
    print(f"adaptive no worse than grid + 0.5 points: {not_worse * 100:.0f}% of cases")
    print(
        f"search time per run: adaptive {statistics.mean(a.seconds for a, _ in rows):.2f} s, "
        f"grid {statistics.mean(g.seconds for _, g in rows):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

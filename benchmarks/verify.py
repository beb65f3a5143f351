"""How much traffic a verification needs, on simulated functions, at the default settings.

For each profile in ``benchmarks/profiles`` (or those named) and each traffic level (invocations
per 24-hour window, the same before and after), several seeds verify three made-up changes:

- a 10 % cost change: every duration × 0.9 at the same memory (detected: ``verified`` with
  cost among the improvements);
- a 20 % p99 regression: every duration × 1.2 (detected: ``regression`` with p99_ms among the
  regressions; "any" counts a regression called on any metric);
- no change at all (false alarm: ``regression``).

It prints, per profile, the smallest traffic level at which at least 80 % of seeds detect each
change, and the false-alarm rate over every level. Figures, not assertions.

    .venv/bin/python benchmarks/verify.py [--seeds 10] [--profile NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommendations.tuning.profile import SimulationProfile, load_profile
from recommendations.verification.simulate import simulate_verification
from recommendations.verification.verdict import Metric, Verdict

PROFILES = Path(__file__).resolve().parent / "profiles"
LEVELS = (200, 400, 800, 1600, 3200, 6400)
DETECTED = 0.8


def _share(hits: list[bool]) -> float:
    return sum(hits) / len(hits)


def _first_level(rates: dict[int, float]) -> str:
    for level in LEVELS:
        if rates[level] >= DETECTED:
            return str(level)
    return f">{LEVELS[-1]}"


def measure(profile: SimulationProfile, seeds: int) -> dict[str, dict[int, float]]:
    config = (profile.memory_mb, profile.architecture)
    rates: dict[str, dict[int, float]] = {"cost": {}, "p99": {}, "any": {}, "false": {}}
    for level in LEVELS:
        cost, p99, any_metric, false = [], [], [], []
        for seed in range(seeds):
            saving = simulate_verification(profile, config, config, level, seed, slowdown=0.9)
            cost.append(
                saving.verdict is Verdict.VERIFIED
                and Metric.COST_PER_INVOCATION in saving.improvements
            )
            slower = simulate_verification(profile, config, config, level, seed, slowdown=1.2)
            p99.append(Metric.P99 in slower.regressions)
            any_metric.append(slower.verdict is Verdict.REGRESSION)
            same = simulate_verification(profile, config, config, level, seed + 10_000)
            false.append(same.verdict is Verdict.REGRESSION)
        rates["cost"][level] = _share(cost)
        rates["p99"][level] = _share(p99)
        rates["any"][level] = _share(any_metric)
        rates["false"][level] = _share(false)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--profile", action="append", default=None)
    args = parser.parse_args()
    names = args.profile or sorted(p.stem for p in PROFILES.glob("*.json"))
    print(
        f"Invocations per 24 h window for {DETECTED:.0%} detection ({args.seeds} seeds; "
        f"levels {', '.join(map(str, LEVELS))})"
    )
    header = (
        f"{'profile':22} {'noise cv':>8} {'10% cost':>9} {'20% p99':>8} {'any metric':>10} "
        f"{'false alarms':>12} {'seconds':>8}"
    )
    print(header)
    print("-" * len(header))
    false_total: list[float] = []
    for name in names:
        profile = load_profile(PROFILES / f"{name}.json")
        began = time.perf_counter()
        rates = measure(profile, args.seeds)
        false_total.extend(rates["false"].values())
        print(
            f"{name:22} {profile.noise_cv:>8.2f} {_first_level(rates['cost']):>9} "
            f"{_first_level(rates['p99']):>8} {_first_level(rates['any']):>10} "
            f"{max(rates['false'].values()):>12.0%} {time.perf_counter() - began:>8.1f}"
        )
    print(
        f"False alarms (regression on an unchanged function), mean over every level: "
        f"{sum(false_total) / len(false_total):.1%} (target ≤ 5%)."
    )


if __name__ == "__main__":
    main()

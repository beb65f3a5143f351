"""How fast the rules engine analyses a fleet: ``python benchmarks/engine.py [--functions N]``.

Generates two varied fleets of N functions (10,000 by default) and times ``analyze_fleet``
on them in CPU time of this one process (so other work on the machine does not count):

- typical: each problem affects a few percent of functions, as in a reasonably kept fleet;
- dense: every problem is likely, several recommendations per function (a stress case).

Prints functions per second (the best of ``--repeat`` runs, and the first, cold one) against
the 5,000/s target, and a baseline ratio: analysis time over the time it takes just to
validate the same snapshot from JSON (what loading a saved snapshot costs anyway).
``--per-rule`` adds the time of each rule alone.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommendations.engine import analyze_fleet, evaluate_rule
from recommendations.rules import default_rules
from recommendations.rules.base import RuleContext
from recommendations.snapshot import FleetSnapshot

TARGET_PER_SECOND = 5000
COLLECTED = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
CURRENT_RUNTIMES = ("python3.12", "python3.13", "nodejs24.x", "java21", "ruby3.4", "dotnet10")
OLD_RUNTIMES = ("python3.9", "nodejs20.x", "nodejs22.x", "java11")
TIMEOUTS = (3, 10, 30, 60, 300, 900)
INVOKERS = (["api_gateway"], ["s3"], ["sns"], ["event_source_mapping"], ["schedule"], None)


def _chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability


def generated_function(index: int, rng: random.Random, dense: bool) -> dict[str, Any]:
    """One function. ``dense``: every problem is likely (a stress case); otherwise problems
    are as rare as in a reasonably kept fleet (a few percent each)."""
    odds = 0.5 if dense else 0.04
    name = f"fn-{index:05d}"
    memory = rng.choice((128, 256, 512, 1024, 1536, 2048, 3008, 4096))
    invocations = int(10 ** rng.uniform(2, 8))
    p50 = 10 ** rng.uniform(1, 3.5)
    slowest = p50 * rng.uniform(4, 12)
    sample = min(invocations, 20_000)
    sensible_timeout = max(3, math.ceil(slowest * 3 / 1000))
    invoked_by = rng.choice(INVOKERS)
    is_async = invoked_by is not None and invoked_by[0] in ("s3", "sns", "schedule")
    function: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        "account_id": ACCOUNT,
        "region": rng.choice(("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-3")),
        "runtime": rng.choice(OLD_RUNTIMES if _chance(rng, odds) else CURRENT_RUNTIMES),
        "architecture": "x86_64" if _chance(rng, odds) else "arm64",
        "memory_mb": memory,
        "timeout_s": rng.choice(TIMEOUTS) if _chance(rng, odds) else min(900, sensible_timeout),
        "code_size_bytes": int(10 ** rng.uniform(5, 8.2 if _chance(rng, odds) else 7.3)),
        "native_binaries": rng.choice(([], None, [{"path": "a.so", "machine": "x86_64"}])),
        "invoked_by": invoked_by,
        "stats": {
            "window_days": 14,
            "invocations": invocations,
            "errors": int(invocations * rng.uniform(0, 0.02)),
            "throttles": int(invocations * 0.02) if _chance(rng, odds) else 0,
            "duration_avg_ms": p50 * 1.2,
            "duration_p50_ms": p50,
            "duration_p90_ms": p50 * rng.uniform(1.6, 4),
            "duration_p99_ms": slowest / 2,
            "duration_max_ms": slowest,
            "log_sample_invocations": sample,
            "max_memory_used_mb": int(
                memory * (rng.uniform(0.1, 1.0) if _chance(rng, odds) else rng.uniform(0.55, 0.85))
            ),
            "timeouts": 5 if _chance(rng, odds) else 0,
            "out_of_memory": 2 if _chance(rng, odds) else 0,
            "cold_starts": int(sample * (0.05 if _chance(rng, odds) else 0.002)),
            "init_duration_avg_ms": rng.uniform(100, 3000),
            "async_events_dropped": 12 if is_async and _chance(rng, odds) else 0,
            "async_event_age_max_ms": rng.uniform(0, 600_000 if _chance(rng, odds) else 60_000),
        },
    }
    if is_async and not _chance(rng, odds):
        function["dead_letter_target_arn"] = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"
    if invoked_by == ["event_source_mapping"]:
        function["event_source_mappings"] = [
            {
                "uuid": f"uuid-{index}",
                "source_arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue-{index}",
                "kind": "sqs",
                "batch_size": rng.choice((1, 10)) if _chance(rng, odds) else 100,
                "maximum_batching_window_s": 0 if _chance(rng, odds) else 5,
                "function_response_types": []
                if _chance(rng, odds)
                else ["ReportBatchItemFailures"],
                "queue_visibility_timeout_s": 6 * function["timeout_s"]
                if not _chance(rng, odds)
                else 30,
                "queue_is_fifo": False,
                "queue_redrive_policy": None
                if _chance(rng, odds)
                else {"dead_letter_target_arn": "arn:dlq", "max_receive_count": 5},
            }
        ]
    if _chance(rng, 0.1):
        function["provisioned_concurrency"] = rng.choice((5, 20, 50))
        function["provisioned_concurrency_qualifier"] = "live"
        function["stats"]["provisioned_concurrency_utilization_avg"] = rng.uniform(0, 1)
        function["stats"]["provisioned_concurrency_utilization_max"] = rng.uniform(0.5, 1)
    return function


def generated_fleet_json(count: int, seed: int, dense: bool) -> str:
    rng = random.Random(seed)
    return json.dumps(
        {
            "collected_at": COLLECTED.isoformat(),
            "window_start": (COLLECTED - timedelta(days=14)).isoformat(),
            "window_end": COLLECTED.isoformat(),
            "functions": [generated_function(i, rng, dense) for i in range(count)],
        }
    )


def measure(
    label: str, count: int, seed: int, dense: bool, per_rule: bool, repeat: int = 1
) -> float:
    text = generated_fleet_json(count, seed, dense)
    # CPU time of this process: other work on the machine does not count against the engine.
    started = time.process_time()
    fleet = FleetSnapshot.model_validate_json(text)
    load_s = time.process_time() - started

    runs: list[tuple[float, float]] = []
    for _ in range(repeat):
        started, wall_started = time.process_time(), time.perf_counter()
        report = analyze_fleet(fleet)
        runs.append((time.process_time() - started, time.perf_counter() - wall_started))
        found = len(report.recommendations)
        # Freed before the next run and the per-rule timings: a live report of this size makes
        # any full garbage collection walk it, and that time would land on whatever runs then.
        del report
    # The fastest run is the one least disturbed by other work on the machine (as timeit
    # does); the first run is shown too, since a cold process is what a CLI call is.
    analyse_s, wall_s = min(runs)
    per_second = count / analyse_s
    print(f"{label} fleet")
    print(f"  functions analysed:   {count:,}")
    print(f"  recommendations:      {found:,} ({found / count:.2f} per function)")
    print(f"  baseline (load JSON): {load_s:.3f} s CPU")
    print(f"  analysis:             {analyse_s:.3f} s CPU, {wall_s:.3f} s wall", end="")
    print(f" ({analyse_s / load_s:.1f}× the baseline; best of {repeat})")
    if repeat > 1:
        print(f"  first run:            {count / runs[0][0]:,.0f} functions per second")
    print(f"  functions per second: {per_second:,.0f}", end="")
    print(f" ({per_second / TARGET_PER_SECOND:.2f}× the {TARGET_PER_SECOND:,}/s target)")
    if per_rule:
        # Where the time goes: each rule alone over the same fleet.
        context = RuleContext(now=fleet.collected_at)
        print("  per rule, µs per function:")
        for rule in default_rules():
            started = time.process_time()
            for fn in fleet.functions:
                evaluate_rule(rule, fn, context)
            spent = time.process_time() - started
            print(f"    {rule.rule_id:<10} {spent / count * 1e6:7.1f}")
    return per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-rule", action="store_true", help="also time each rule alone")
    parser.add_argument(
        "--repeat", type=int, default=3, help="analyse each fleet this many times (best counts)"
    )
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    measure("Typical", args.functions, args.seed, False, args.per_rule, repeat)
    print()
    measure("Dense (stress case)", args.functions, args.seed, True, args.per_rule, repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

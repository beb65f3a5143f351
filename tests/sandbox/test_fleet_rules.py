"""The demo fleet gives every rule something to say, as docs/sandbox.md promises.

Each function is read and analysed exactly as ``/tune`` does it (``handlers.compose``'s
services against the seeded embedded AWS). Rules that moto cannot feed are listed, with why,
in docs/sandbox.md ("What the embedded AWS cannot show").
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from recommendations.rules import default_rules
from recommendations.rules.base import Outcome
from recommendations.snapshot import Architecture, FigureSource, NativeBinary
from sandbox.app import Sandbox, SandboxOptions
from sandbox.fleet import FLEET
from service.api import FunctionAnalysis

# moto has no provisioned concurrency APIs (CONC-002).
NOT_SHOWABLE = {"CONC-002"}

# What docs/sandbox.md's fleet table says each function shows.
DOCUMENTED = {
    "checkout-api": {"MEM-001", "ARCH-001"},
    # Percentiles from its REPORT lines (moto computes none) show it CPU-bound.
    "image-resizer": {"MEM-003", "ARCH-001"},
    "orders-consumer": {"BAT-001", "BAT-004", "TMO-004"},
    "email-sender": {"ASYNC-001", "ASYNC-002"},
    "report-generator": {"TMO-003"},
    "pdf-export": {"TMO-001", "PKG-001"},
    "legacy-billing": {"RT-001", "TMO-002"},
    "thumbnail-native": {"COLD-001"},
    "search-indexer": {"BAT-002", "BAT-003"},
    "auth-authorizer": {"CONC-001"},
    "notifications-fanout": {"MEM-002"},
    "webhook-receiver": {"COLD-001"},
    "nightly-cleanup": set(),
    "clickstream-archiver": {"BAT-005"},
    # Failures and the throttling lines read from its logs' sample (moto has no Insights).
    "stock-sync": {"ERR-001", "ERR-002"},
    "video-transcoder": {"STO-001"},
    # No metrics at all: the 30-day Invocations read is zero too.
    "legacy-export": {"IDLE-001"},
    "clickstream-collector": {"LOG-001", "LOG-002", "TRC-001"},
}


@pytest.fixture(scope="module")
def analyses() -> Iterator[dict[str, FunctionAnalysis]]:
    sandbox = Sandbox(SandboxOptions())
    sandbox.start()
    try:
        # The bot's own services: their session reads packages from the embedded AWS.
        services = sandbox.services
        assert services is not None

        def analysis_of(name: str) -> FunctionAnalysis:
            return services.analyze_function(name)

        # The first function alone creates the boto3 clients (creating them is not
        # thread-safe); the rest are independent and read side by side to keep this short.
        first, *others = [function.name for function in FLEET]
        results = {first: analysis_of(first)}
        with ThreadPoolExecutor(max_workers=4) as pool:
            results.update(zip(others, pool.map(analysis_of, others), strict=True))
        yield results
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def found(analyses: dict[str, FunctionAnalysis]) -> dict[str, set[str]]:
    return {
        name: {rec.rule_id for rec in analysis.report.recommendations}
        for name, analysis in analyses.items()
    }


def test_every_rule_the_embedded_aws_can_feed_fires_somewhere(found: dict[str, set[str]]) -> None:
    every_rule = {rule.rule_id for rule in default_rules()}
    fired = set().union(*found.values())
    assert every_rule - NOT_SHOWABLE - fired == set()


@pytest.mark.parametrize("function", sorted(DOCUMENTED))
def test_each_function_shows_what_the_docs_say(found: dict[str, set[str]], function: str) -> None:
    assert DOCUMENTED[function] <= found[function]
    if not DOCUMENTED[function]:
        assert found[function] == set()


def test_thumbnail_natives_package_and_layer_are_read_so_arm64_is_not_suggested(
    analyses: dict[str, FunctionAnalysis],
) -> None:
    analysis = analyses["thumbnail-native"]
    # Read from the zip CreateFunction received (moto's Code.Location is not reachable).
    assert analysis.snapshot.native_binaries == (
        NativeBinary(path="lib/libimage.so", machine="x86_64", kind="shared_object"),
    )
    # GetLayerVersion stands in for the GetLayerVersionByArn moto lacks.
    [layer] = analysis.snapshot.layers
    assert layer.compatible_architectures == (Architecture.X86_64,)
    assert "ARCH-001" not in {rec.rule_id for rec in analysis.report.recommendations}
    arch = next(result for result in analysis.report.results if result.rule_id == "ARCH-001")
    assert (arch.outcome, arch.reason) == (
        Outcome.PASS,
        "the package holds x86-only native binaries (lib/libimage.so)",
    )


def test_image_resizers_percentiles_come_from_its_report_lines(
    analyses: dict[str, FunctionAnalysis],
) -> None:
    stats = analyses["image-resizer"].snapshot.stats
    assert stats is not None and stats.log_sample_invocations
    assert stats.duration_percentiles_source is FigureSource.LOGS
    assert stats.duration_p50_ms and stats.duration_p90_ms and stats.duration_p99_ms
    assert stats.duration_p50_ms <= stats.duration_p90_ms <= stats.duration_p99_ms
    [mem003] = [
        rec for rec in analyses["image-resizer"].report.recommendations if rec.rule_id == "MEM-003"
    ]
    assert mem003.benchmark_first

"""ARCH-001: arm64 where runtime, layers and package allow it."""

from __future__ import annotations

import pytest

from recommendations.changes import ArchitectureChange
from recommendations.recommendation import Confidence
from recommendations.rules.architecture import Arm64Migration
from recommendations.rules.base import Outcome
from recommendations.snapshot import Architecture, Layer, NativeBinary, PackageType
from tests.recommendations.builders import ARM_GB_S, X86_GB_S, function, run, single, stats

TRAFFIC = stats(invocations=1_000_000, billed_duration_avg_ms=100.0)
ARM_LAYER = Layer(
    arn="arn:aws:lambda:us-east-1:123456789012:layer:tools:4",
    compatible_architectures=(Architecture.X86_64, Architecture.ARM64),
)
rule = Arm64Migration()


def test_recommends_arm64_with_the_20_percent_price_cut() -> None:
    fn = function(native_binaries=(), layers=(ARM_LAYER,), stats_=TRAFFIC)
    rec = single(run(rule, fn))
    assert rec.change == ArchitectureChange(
        function_name="orders", before=Architecture.X86_64, after=Architecture.ARM64
    )
    # 1M × 0.1 s × 1 GB at each price.
    expected = 1_000_000 * 0.1 * (X86_GB_S - ARM_GB_S)
    slower = 1_000_000 * (0.1 * X86_GB_S - 0.11 * ARM_GB_S)
    assert rec.monthly_savings_usd == rec.monthly_savings_high_usd == round(expected, 2) == 0.33
    assert rec.monthly_savings_low_usd == round(slower, 2) == 0.2
    assert (rec.confidence, rec.benchmark_first) == (Confidence.MEDIUM, True)


def test_unscanned_package_lowers_confidence_and_says_why() -> None:
    rec = single(run(rule, function(stats_=TRAFFIC)))
    assert rec.confidence is Confidence.LOW
    assert rec.rationale.endswith(
        "Not yet certain: the package was not scanned for native binaries."
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"native_binaries": (NativeBinary(path="lib/libvips.so", machine="x86_64"),)},
            "the package holds x86-only native binaries (lib/libvips.so)",
        ),
        (
            {
                "layers": (
                    Layer(
                        arn="arn:aws:lambda:us-east-1:123456789012:layer:numpy:2",
                        compatible_architectures=(Architecture.X86_64,),
                    ),
                )
            },
            "layer numpy is built for x86_64 only",
        ),
        ({"runtime": "go1.x"}, "the go1.x runtime has no arm64 variant"),
    ],
)
def test_passes_when_something_pins_x86(fields: dict[str, object], reason: str) -> None:
    result = run(rule, function(stats_=TRAFFIC, **fields))
    assert (result.outcome, result.reason) == (Outcome.PASS, reason)


@pytest.mark.parametrize(
    "fields", [{"architecture": Architecture.ARM64}, {"package_type": PackageType.IMAGE}]
)
def test_not_applicable_to_arm64_or_images(fields: dict[str, object]) -> None:
    assert run(rule, function(stats_=TRAFFIC, **fields)).outcome is Outcome.NOT_APPLICABLE


def test_unknown_without_traffic() -> None:
    result = run(rule, function(native_binaries=(), stats_=stats(invocations=None)))
    assert result.outcome is Outcome.UNKNOWN

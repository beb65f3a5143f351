"""Processor architecture: moving x86_64 zip functions to arm64 (Graviton)."""

from __future__ import annotations

from recommendations.changes import ArchitectureChange
from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import (
    MIN_WORTHWHILE_SAVINGS_USD,
    build,
    cost,
    evidence,
)
from recommendations.snapshot import Architecture, FunctionSnapshot, PackageType

# Managed runtimes that have no arm64 variant (Amazon Linux 1 and older language versions).
X86_ONLY_RUNTIMES = frozenset(
    {
        "go1.x",
        "java8",
        "provided",
        "python2.7",
        "python3.6",
        "python3.7",
        "nodejs",
        "nodejs4.3",
        "nodejs6.10",
        "nodejs8.10",
        "nodejs10.x",
        "ruby2.5",
        "dotnetcore1.0",
        "dotnetcore2.0",
        "dotnetcore2.1",
    }
)
# ELF machine names that only run on x86.
X86_MACHINES = frozenset({"x86_64", "x86-64", "amd64", "i386", "x86"})
# The low end of the estimate: arm64 running this much slower than x86_64 for this code.
ARM64_SLOWER_CASE = 1.10
NOTABLE_SAVINGS_USD = 10.0


class Arm64Migration(Rule):
    """An x86_64 zip function that could run on arm64 for a lower price.

    What it checks:
    x86_64 functions packaged as zip files, on a runtime that has an arm64 variant, whose layers
    all declare arm64 and whose package holds no x86-only native binaries (ELF files). When the
    package was not scanned, or a layer declares no architectures, confidence drops.

    Why it matters:
    arm64 (Graviton) duration is priced 20% below x86_64. Most interpreted code runs unchanged
    and at a similar speed, so the bill for compute falls by about a fifth. The estimate is a
    range: the same duration (the expected case) down to arm64 being 10% slower.

    What to do:
    Benchmark both architectures with `tunebot tune --architectures x86_64,arm64`, then apply.
    The change re-deploys the same code package for arm64; undo switches back.
    """

    rule_id = "ARCH-001"
    name = "arm64 migration"
    category = Category.ARCHITECTURE
    needs = (
        "architecture",
        "package_type",
        "runtime",
        "layers[].compatible_architectures",
        "native_binaries",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
    )
    proposes = ArchitectureChange
    iam_actions = ArchitectureChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.architecture is Architecture.ARM64:
            return self.not_applicable("already on arm64")
        if fn.package_type is PackageType.IMAGE:
            return self.not_applicable("container images need an arm64 image build, not a switch")
        if fn.runtime is None:
            return self.unknown("the runtime is unknown")
        if fn.runtime in X86_ONLY_RUNTIMES:
            return self.passed(f"the {fn.runtime} runtime has no arm64 variant")
        x86_binaries = [
            binary.path
            for binary in fn.native_binaries or ()
            if binary.machine.lower() in X86_MACHINES
        ]
        if x86_binaries:
            shown = ", ".join(sorted(x86_binaries)[:3])
            return self.passed(f"the package holds x86-only native binaries ({shown})")
        doubts: list[str] = []
        for layer in fn.layers:
            architectures = layer.compatible_architectures
            layer_name = layer.arn.rsplit(":", 2)[-2] if layer.arn.count(":") >= 2 else layer.arn
            if architectures is None:
                doubts.append(f"the architectures of layer {layer_name} are unknown")
            elif not architectures:
                doubts.append(f"layer {layer_name} declares no architectures")
            elif Architecture.ARM64 not in architectures:
                return self.passed(f"layer {layer_name} is built for x86_64 only")
        if fn.native_binaries is None:
            doubts.append("the package was not scanned for native binaries")
        before = cost(fn, context.now)
        if before is None:
            return self.unknown("traffic or duration is unknown, so the saving cannot be priced")
        same_speed = cost(fn, context.now, architecture=Architecture.ARM64)
        slower = cost(
            fn,
            context.now,
            architecture=Architecture.ARM64,
            billed_duration_ms=before.billed_duration_ms * ARM64_SLOWER_CASE,
        )
        assert same_speed is not None and slower is not None  # traffic is known
        expected = before.total_usd - same_speed.total_usd
        low = before.total_usd - slower.total_usd
        if expected < MIN_WORTHWHILE_SAVINGS_USD:
            return self.passed(f"arm64 saves under ${MIN_WORTHWHILE_SAVINGS_USD:.2f} a month")
        rationale = (
            f"{fn.name} runs {fn.runtime} on x86_64. arm64 duration costs 20% less; at the "
            f"same speed that saves ${expected:,.2f} a month, and ${max(low, 0.0):,.2f} if "
            "arm64 turns out 10% slower for this code."
        )
        if doubts:
            rationale += " Not yet certain: " + "; ".join(doubts) + "."
        facts = [
            evidence("Architecture", fn.architecture.value, "", "configuration"),
            evidence("Runtime", fn.runtime, "", "configuration"),
            evidence("Layers", len(fn.layers), "", "configuration"),
            evidence("Compute cost", round(before.compute_usd, 2), "USD/month", "derived"),
        ]
        if fn.native_binaries is not None:
            facts.append(evidence("Native binaries", len(fn.native_binaries), "", "package scan"))
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM if expected >= NOTABLE_SAVINGS_USD else Severity.LOW,
                title="Switch to arm64 (Graviton) for 20% cheaper compute",
                rationale=rationale,
                confidence=Confidence.LOW if doubts else Confidence.MEDIUM,
                evidence=facts,
                change=ArchitectureChange(
                    function_name=fn.name, before=fn.architecture, after=Architecture.ARM64
                ),
                cost_before=before.total_usd,
                cost_after=same_speed.total_usd,
                savings=expected,
                savings_low=max(0.0, low),
                savings_high=expected,
                risk=Risk.MEDIUM,
                benchmark_first=True,
            )
        )

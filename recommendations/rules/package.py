"""Deployment package size."""

from __future__ import annotations

from recommendations.recommendation import Category, Confidence, Risk, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, evidence, percent
from recommendations.snapshot import FunctionSnapshot, PackageType

MIB = 1024 * 1024
# Zipped code plus layers at or above this is oversized (it is also the direct-upload limit).
OVERSIZED_PACKAGE_BYTES = 50 * MIB
# Init this slow on average makes the size a latency problem, not only a deployment one.
SLOW_INIT_MS = 1000.0


class OversizedPackage(Rule):
    """A deployment package (code plus layers) of 50 MiB or more, zipped.

    What it checks:
    The zipped size of the function's code plus its layers. Container images are not
    checked. If a layer's size is unknown and the code alone is under the limit, the result
    is unknown.

    Why it matters:
    Lambda downloads and unpacks the package on every cold start, so large packages make cold
    starts slower (the average init time is shown when known). 50 MiB is also the limit for
    uploading a zip directly, and 250 MiB unzipped is a hard limit for code plus layers.

    What to do:
    Remove what the function does not import (test data, docs, unused SDKs, the AWS SDK that
    the runtime already provides), strip debug symbols from native libraries, and load rarely
    used dependencies lazily. Move to a container image if the code truly needs the space.
    """

    rule_id = "PKG-001"
    name = "Oversized package"
    category = Category.PACKAGE
    needs = (
        "package_type",
        "code_size_bytes",
        "layers[].code_size_bytes",
        "stats.init_duration_avg_ms",
    )

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.package_type is PackageType.IMAGE:
            return self.not_applicable("container images are not size-checked")
        if fn.code_size_bytes is None:
            return self.unknown("the code size is unknown")
        layer_sizes = [layer.code_size_bytes for layer in fn.layers]
        known_total = fn.code_size_bytes + sum(size for size in layer_sizes if size is not None)
        if known_total < OVERSIZED_PACKAGE_BYTES:
            if any(size is None for size in layer_sizes):
                return self.unknown("the size of a layer is unknown")
            return self.passed(f"{known_total / MIB:,.1f} MiB zipped with layers")
        init = fn.stats.init_duration_avg_ms if fn.stats else None
        facts = [
            evidence(
                "Code size (zipped)", round(fn.code_size_bytes / MIB, 1), "MiB", "configuration"
            ),
            evidence(
                "Code and layers (zipped)", round(known_total / MIB, 1), "MiB", "configuration"
            ),
            evidence(
                "Share of the 50 MiB upload limit",
                percent(known_total / OVERSIZED_PACKAGE_BYTES),
                "%",
            ),
        ]
        if init is not None:
            facts.append(
                evidence("Init duration (average)", round(init, 1), "ms", "REPORT log lines")
            )
        slow = init is not None and init >= SLOW_INIT_MS
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM if slow else Severity.LOW,
                title=f"Trim the {known_total / MIB:,.0f} MiB package",
                rationale=(
                    f"{fn.name}'s code and layers weigh {known_total / MIB:,.1f} MiB zipped. "
                    "Every cold start downloads and unpacks them"
                    + (f" (init averages {init:,.0f} ms)" if init is not None else "")
                    + ". Remove what the handler does not import and load rarely used "
                    "dependencies lazily."
                ),
                confidence=Confidence.HIGH,
                evidence=facts,
                risk=Risk.LOW,
            )
        )

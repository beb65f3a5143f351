"""RT-001 (deprecated runtimes, against the analysis time) and PKG-001 (package size)."""

from __future__ import annotations

from datetime import UTC, datetime

from recommendations.recommendation import Severity
from recommendations.rules.base import Outcome
from recommendations.rules.package import OversizedPackage
from recommendations.rules.runtime import DeprecatedRuntime
from recommendations.snapshot import Layer, PackageType
from tests.recommendations.builders import function, run, single, stats

MIB = 1024 * 1024


class TestDeprecatedRuntime:
    rule = DeprecatedRuntime()

    def test_deprecated_runtime_is_urgent(self) -> None:
        rec = single(run(self.rule, function(runtime="python3.9")))
        assert rec.title == "Upgrade python3.9: deprecated since 2025-12-15"
        assert rec.severity is Severity.HIGH
        assert rec.rationale.endswith("Move it to python3.13.")

    def test_soon_deprecated_runtime(self) -> None:
        rec = single(run(self.rule, function(runtime="nodejs22.x")))
        assert rec.severity is Severity.MEDIUM
        assert "will be deprecated on 2027-04-30 (in 161 days)" in rec.rationale

    def test_uses_the_analysis_time_not_the_clock(self) -> None:
        earlier = datetime(2025, 1, 1, tzinfo=UTC)
        result = run(self.rule, function(runtime="python3.9"), now=earlier)
        assert (result.outcome, result.reason) == (
            Outcome.PASS,
            "python3.9 is supported until 2025-12-15",
        )

    def test_supported_runtime_passes(self) -> None:
        assert run(self.rule, function(runtime="python3.13")).outcome is Outcome.PASS

    def test_unknown_runtime_and_images(self) -> None:
        assert run(self.rule, function(runtime="cobol1.0")).outcome is Outcome.UNKNOWN
        image = function(runtime=None, package_type=PackageType.IMAGE)
        assert run(self.rule, image).outcome is Outcome.NOT_APPLICABLE


class TestOversizedPackage:
    rule = OversizedPackage()

    def layer(self, size: int | None) -> Layer:
        return Layer(arn="arn:aws:lambda:us-east-1:123456789012:layer:deps:1", code_size_bytes=size)

    def test_counts_code_and_layers(self) -> None:
        fn = function(code_size_bytes=40 * MIB, layers=(self.layer(15 * MIB),))
        rec = single(run(self.rule, fn))
        assert (rec.title, rec.severity, rec.change) == (
            "Trim the 55 MiB package",
            Severity.LOW,
            None,
        )

    def test_slow_init_makes_it_medium(self) -> None:
        fn = function(code_size_bytes=60 * MIB, stats_=stats(init_duration_avg_ms=1500.0))
        assert single(run(self.rule, fn)).severity is Severity.MEDIUM

    def test_small_package_passes(self) -> None:
        fn = function(code_size_bytes=10 * MIB, layers=(self.layer(MIB),))
        assert run(self.rule, fn).reason == "11.0 MiB zipped with layers"

    def test_unknown_sizes_and_images(self) -> None:
        assert run(self.rule, function()).outcome is Outcome.UNKNOWN
        fn = function(code_size_bytes=10 * MIB, layers=(self.layer(None),))
        assert run(self.rule, fn).outcome is Outcome.UNKNOWN
        image = function(runtime=None, package_type=PackageType.IMAGE, code_size_bytes=900 * MIB)
        assert run(self.rule, image).outcome is Outcome.NOT_APPLICABLE

"""MEM-001, MEM-002, MEM-003 with figures worked out by hand (see builders: 1 month window)."""

from __future__ import annotations

import pytest

from recommendations.changes import MemoryChange
from recommendations.recommendation import Confidence, Risk, Severity, TradeOff
from recommendations.rules.base import Outcome
from recommendations.rules.memory import (
    CpuBoundNeedsMoreMemory,
    MemoryOverProvisioned,
    MemoryUnderProvisioned,
)
from recommendations.snapshot import FigureSource
from tests.recommendations.builders import X86_GB_S, function, run, single, stats


def over(**fields: object) -> object:
    base = {
        "invocations": 1_000_000,
        "billed_duration_avg_ms": 100.0,
        "log_sample_invocations": 1000,
        "max_memory_used_mb": 200,
        "out_of_memory": 0,
        "duration_p50_ms": 80.0,
        "duration_p90_ms": 150.0,
    }
    base.update(fields)
    return stats(**base)


class TestMemoryOverProvisioned:
    rule = MemoryOverProvisioned()

    def test_below_one_vcpu_the_saving_is_a_range_and_asks_for_a_benchmark(self) -> None:
        rec = single(run(self.rule, function(memory_mb=1024, stats_=over())))
        # 200 MB peak × 1.3 = 260 → 320 MB. Same duration: 1M × 0.1 s × (1024-320)/1024 GB.
        high = 1_000_000 * 0.1 * (1024 - 320) / 1024 * X86_GB_S
        assert rec.change == MemoryChange(function_name="orders", before=1024, after=320)
        assert rec.rule_id == "MEM-001"
        assert rec.monthly_savings_high_usd == round(high, 2) == 1.15
        # Fully CPU-bound: 3.2× longer at 320 MB, the same GB-seconds, nothing saved.
        assert rec.monthly_savings_low_usd == 0.0
        assert rec.monthly_savings_usd == round(high / 2, 2) == 0.57
        assert rec.monthly_cost_before_usd == round(1_000_000 * 0.1 * X86_GB_S + 0.2, 2)
        assert (rec.confidence, rec.risk, rec.benchmark_first) == (
            Confidence.LOW,
            Risk.MEDIUM,
            True,
        )
        assert rec.severity is Severity.LOW

    def test_above_one_vcpu_the_saving_is_certain(self) -> None:
        fn = function(memory_mb=4096, stats_=over(max_memory_used_mb=1500))
        rec = single(run(self.rule, fn))
        # 1500 × 1.3 = 1950 → 1984 MB, still a full vCPU: the duration does not change.
        saving = 1_000_000 * 0.1 * (4096 - 1984) / 1024 * X86_GB_S
        assert rec.change == MemoryChange(function_name="orders", before=4096, after=1984)
        assert rec.monthly_savings_usd == rec.monthly_savings_low_usd == round(saving, 2) == 3.44
        assert rec.monthly_savings_high_usd == 3.44
        assert (rec.confidence, rec.benchmark_first) == (Confidence.MEDIUM, False)

    def test_passes_when_memory_is_well_used(self) -> None:
        result = run(self.rule, function(stats_=over(max_memory_used_mb=700)))
        assert result.outcome is Outcome.PASS
        assert result.reason == "uses up to 68.4% of its memory"

    def test_leaves_cpu_bound_functions_to_mem_003(self) -> None:
        fn = function(stats_=over(duration_p50_ms=2000.0, duration_p90_ms=2200.0))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_passes_when_the_function_runs_out_of_memory(self) -> None:
        assert run(self.rule, function(stats_=over(out_of_memory=3))).outcome is Outcome.PASS

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [
            ({"max_memory_used_mb": None}, "memory used is unknown (no REPORT log lines)"),
            (
                {"log_sample_invocations": 10},
                "only 10 invocations were sampled from the logs (need 50)",
            ),
            (
                {"invocations": None},
                "traffic or duration is unknown, so the saving cannot be priced",
            ),
        ],
    )
    def test_unknown_without_the_data(self, fields: dict[str, object], reason: str) -> None:
        result = run(self.rule, function(stats_=over(**fields)))
        assert (result.outcome, result.reason) == (Outcome.UNKNOWN, reason)

    def test_unknown_without_statistics(self) -> None:
        assert run(self.rule, function()).outcome is Outcome.UNKNOWN


class TestMemoryUnderProvisioned:
    rule = MemoryUnderProvisioned()

    def test_out_of_memory_kills_grow_memory_by_half(self) -> None:
        fn = function(
            memory_mb=512,
            stats_=stats(
                invocations=1_000_000,
                billed_duration_avg_ms=200.0,
                log_sample_invocations=1000,
                max_memory_used_mb=512,
                out_of_memory=5,
            ),
        )
        rec = single(run(self.rule, fn))
        assert rec.change == MemoryChange(function_name="orders", before=512, after=768)
        # Worst case, the same 200 ms at 768 MB: 1M × 0.2 s × 0.25 GB more.
        extra = 1_000_000 * 0.2 * 256 / 1024 * X86_GB_S
        assert rec.monthly_savings_usd == rec.monthly_savings_low_usd == -round(extra, 2) == -0.83
        # Best case, CPU-bound: 1.5× faster, the same GB-seconds.
        assert rec.monthly_savings_high_usd == 0.0
        assert rec.trade_off is TradeOff.SAFETY
        assert (rec.severity, rec.confidence) == (Severity.HIGH, Confidence.HIGH)
        assert {e.label: e.value for e in rec.evidence}["Out-of-memory rate"] == 0.5

    def test_near_the_limit_adds_headroom(self) -> None:
        fn = function(stats_=stats(max_memory_used_mb=950, out_of_memory=0))
        rec = single(run(self.rule, fn))
        # 950 × 1.3 = 1235 → 1280 MB; traffic unknown so no price.
        assert rec.change == MemoryChange(function_name="orders", before=1024, after=1280)
        assert rec.monthly_savings_usd is None
        assert (rec.severity, rec.confidence) == (Severity.MEDIUM, Confidence.MEDIUM)

    def test_at_the_maximum_gives_advice_without_a_change(self) -> None:
        fn = function(memory_mb=10240, stats_=stats(out_of_memory=2))
        rec = single(run(self.rule, fn))
        assert rec.change is None
        assert rec.title == "Memory is exhausted at the 10240 MB maximum"

    def test_passes_with_room_to_spare(self) -> None:
        result = run(self.rule, function(stats_=stats(max_memory_used_mb=500, out_of_memory=0)))
        assert (result.outcome, result.reason) == (
            Outcome.PASS,
            "no out-of-memory kills and peak 500 MB of 1024 MB",
        )

    def test_unknown_without_memory_data(self) -> None:
        result = run(self.rule, function(stats_=stats(invocations=10)))
        assert result.outcome is Outcome.UNKNOWN


class TestCpuBoundNeedsMoreMemory:
    rule = CpuBoundNeedsMoreMemory()

    def steady(self, **fields: object) -> object:
        base = {
            "invocations": 100_000,
            "billed_duration_avg_ms": 2050.0,
            "duration_p50_ms": 2000.0,
            "duration_p90_ms": 2400.0,
        }
        base.update(fields)
        return stats(**base)

    def test_slow_steady_function_gets_a_range_and_a_benchmark(self) -> None:
        rec = single(run(self.rule, function(memory_mb=512, stats_=self.steady())))
        assert rec.change == MemoryChange(function_name="orders", before=512, after=1769)
        assert rec.title == "Benchmark 1769 MB: may cut duration by up to 71.1%"
        # Not CPU-bound: the same 2.05 s at 1769 MB instead of 512 MB.
        extra = 100_000 * 2.05 * (1769 - 512) / 1024 * X86_GB_S
        assert rec.monthly_savings_low_usd == -round(extra, 2) == -4.19
        # CPU-bound: 3.46× faster, the same GB-seconds.
        assert rec.monthly_savings_high_usd == 0.0
        assert rec.monthly_savings_usd is None  # no invented point estimate
        assert rec.trade_off is TradeOff.SPEED
        assert (rec.confidence, rec.benchmark_first) == (Confidence.LOW, True)

    @pytest.mark.parametrize(
        ("percentiles_from", "expected_source"),
        [(None, "metrics"), (FigureSource.METRICS, "metrics"), (FigureSource.LOGS, "logs")],
    )
    def test_evidence_names_where_the_percentiles_came_from(
        self, percentiles_from: FigureSource | None, expected_source: str
    ) -> None:
        fn = function(
            memory_mb=512, stats_=self.steady(duration_percentiles_source=percentiles_from)
        )
        rec = single(run(self.rule, fn))
        sources = {e.label: e.source for e in rec.evidence}
        assert sources["Duration p50"] == sources["Duration p90"] == expected_source

    @pytest.mark.parametrize(
        "fields",
        [{"duration_p50_ms": 200.0, "duration_p90_ms": 220.0}, {"duration_p90_ms": 5000.0}],
    )
    def test_passes_when_short_or_spread(self, fields: dict[str, object]) -> None:
        fn = function(memory_mb=512, stats_=self.steady(**fields))
        assert run(self.rule, fn).outcome is Outcome.PASS

    def test_not_applicable_with_a_full_vcpu(self) -> None:
        fn = function(memory_mb=2048, stats_=self.steady())
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE

    def test_unknown_without_percentiles(self) -> None:
        fn = function(memory_mb=512, stats_=self.steady(duration_p90_ms=None))
        result = run(self.rule, fn)
        assert (result.outcome, result.reason) == (
            Outcome.UNKNOWN,
            "median and p90 duration are unknown",
        )

"""Pricing against AWS's published examples and prices (us-east-1, first tier)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recommendations.pricing import (
    average_billed_duration_ms,
    init_is_billed,
    invocation_cost,
    monthly_cost,
    prices_for,
    provisioned_concurrency_monthly_cost,
)
from recommendations.snapshot import Architecture, PackageType
from tests.recommendations.builders import function, stats

THREE_MILLION_SECONDS = stats(invocations=3_000_000, billed_duration_avg_ms=1000.0)


def test_aws_example_512_mb_three_million_one_second_x86() -> None:
    # AWS: 3M × 1 s × 0.5 GB = 1.5M GB-s × $0.0000166667 = $25.00, requests 3M × $0.20/M = $0.60.
    cost = monthly_cost(function(memory_mb=512, stats_=THREE_MILLION_SECONDS))
    assert cost is not None
    assert round(cost.compute_usd, 2) == 25.00
    assert round(cost.requests_usd, 2) == 0.60
    assert round(cost.total_usd, 2) == 25.60
    assert cost.prices_estimated is False


def test_aws_example_512_mb_three_million_one_second_arm64() -> None:
    # 1.5M GB-s × $0.0000133334 = $20.00: the 20% cheaper arm64 price.
    fn = function(memory_mb=512, architecture=Architecture.ARM64, stats_=THREE_MILLION_SECONDS)
    cost = monthly_cost(fn)
    assert cost is not None
    assert round(cost.compute_usd, 2) == 20.00
    assert round(cost.total_usd, 2) == 20.60


def test_ephemeral_storage_above_the_free_512_mb() -> None:
    # 10 GB configured, 9.5 GB billed: 3M × 1 s × 9.5 GB × $0.0000000309 = $0.88.
    fn = function(memory_mb=512, ephemeral_storage_mb=10240, stats_=THREE_MILLION_SECONDS)
    cost = monthly_cost(fn)
    assert cost is not None
    assert round(cost.ephemeral_storage_usd, 2) == 0.88
    assert round(cost.total_usd, 2) == 26.48


def test_what_if_overrides_keep_the_traffic() -> None:
    fn = function(memory_mb=512, stats_=THREE_MILLION_SECONDS)
    cost = monthly_cost(fn, memory_mb=1024, architecture=Architecture.ARM64, billed_duration_ms=500)
    assert cost is not None
    assert round(cost.compute_usd, 2) == 20.00  # the same 1.5M GB-s at the arm64 price


def test_one_invocation() -> None:
    # 100 ms at 128 MB: 0.1 × 0.125 GB-s × $0.0000166667 + $0.0000002.
    assert invocation_cost(100, 128, Architecture.X86_64) == pytest.approx(4.0833375e-7)


def test_provisioned_concurrency_is_billed_every_second() -> None:
    # 1 environment × 1 GB × 730 h × 3600 s × $0.0000041667.
    assert round(provisioned_concurrency_monthly_cost(1, 1024, Architecture.X86_64), 2) == 10.95


@pytest.mark.parametrize(
    ("average", "peak", "share"),
    [
        (0.3, 0.6, 1.0),  # never full: every request found a provisioned environment
        (0.7, 1.0, 0.7),  # full at times: some requests spilled over to on-demand
        (None, None, 0.0),  # unknown: no discount (the dearer case)
    ],
)
def test_provisioned_duration_price_applies_to_what_provisioned_environments_served(
    average: float | None, peak: float | None, share: float
) -> None:
    fn = function(
        provisioned_concurrency=2,
        stats_=stats(
            invocations=1_000_000,
            billed_duration_avg_ms=1000.0,
            provisioned_concurrency_utilization_avg=average,
            provisioned_concurrency_utilization_max=peak,
        ),
    )
    cost = monthly_cost(fn)
    assert cost is not None
    # 1M × 1 s × 1 GB, the served share at $0.0000097222, the rest at $0.0000166667.
    on_demand, provisioned = 1_000_000 * 0.0000166667, 1_000_000 * 0.0000097222
    assert cost.compute_usd == pytest.approx(share * provisioned + (1 - share) * on_demand)
    assert cost.provisioned_usd == pytest.approx(2 * 730 * 3600 * 0.0000041667)


def test_init_is_billed_for_zip_on_managed_runtimes_since_august_2025() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    before = datetime(2025, 7, 31, tzinfo=UTC)
    assert init_is_billed("python3.12", PackageType.ZIP, now) is True
    assert init_is_billed("python3.12", PackageType.ZIP, before) is False
    assert init_is_billed("provided.al2023", PackageType.ZIP, now) is False
    assert init_is_billed(None, PackageType.IMAGE, now) is False
    fn = function(
        stats_=stats(
            duration_avg_ms=100.0,
            cold_starts=10,
            log_sample_invocations=100,
            init_duration_avg_ms=500.0,
        )
    )
    # 100 ms + 0.5 ms average rounding + 10% of invocations × 500 ms init.
    assert average_billed_duration_ms(fn, now) == 150.5
    assert average_billed_duration_ms(fn, before) == 100.5


def test_unknown_traffic_gives_no_cost_rather_than_zero() -> None:
    assert monthly_cost(function(stats_=stats(billed_duration_avg_ms=100.0))) is None
    assert monthly_cost(function()) is None


def test_regions_outside_the_table_use_us_east_1_and_say_so() -> None:
    assert prices_for("eu-west-1").estimated is False
    estimated = prices_for("ap-southeast-3")
    assert (estimated.region, estimated.estimated) == ("ap-southeast-3", True)
    assert estimated.gb_second == prices_for("us-east-1").gb_second

"""AWS Lambda prices and the monthly cost of a function.

Figures are AWS's published on-demand prices (https://aws.amazon.com/lambda/pricing/, the
US East (N. Virginia) figures) (first tier; the volume discounts above
6 billion GB-seconds a month are not modelled, which makes savings slightly optimistic for the
very largest fleets). Regions not in the table use us-east-1 figures, and say so.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache

from pydantic import Field

from recommendations.snapshot import (
    HOURS_PER_MONTH,
    Architecture,
    Frozen,
    FunctionSnapshot,
    FunctionStats,
    LogGroupClass,
    PackageType,
)

# Init billing: since 2025-08-01 the INIT phase is billed for zip functions on managed runtimes.
INIT_BILLING_START = datetime(2025, 8, 1, tzinfo=UTC)
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
FREE_EPHEMERAL_STORAGE_MB = 512
REFERENCE_REGION = "us-east-1"


class RegionPrices(Frozen):
    region: str
    gb_second: dict[Architecture, float]
    request: float = Field(description="USD per request")
    ephemeral_storage_gb_second: float
    provisioned_gb_second: dict[Architecture, float]
    provisioned_duration_gb_second: dict[Architecture, float]
    # SnapStart for Python and .NET (Java's is free): the snapshot cache, per GB of function
    # memory and second a published version is active (at least 3 hours), and each restore,
    # per GB of function memory.
    snapstart_cache_gb_second: float
    snapstart_restore_gb: float
    # True when this region is not in the table and us-east-1 figures stand in.
    estimated: bool = False


_STANDARD = RegionPrices(
    region=REFERENCE_REGION,
    gb_second={Architecture.X86_64: 0.0000166667, Architecture.ARM64: 0.0000133334},
    request=0.20 / 1_000_000,
    # "Lambda Ephemeral Storage Pricing": only the storage configured above the free 512 MB.
    ephemeral_storage_gb_second=0.0000000309,
    # The pricing page's SnapStart example for US East (N. Virginia).
    snapstart_cache_gb_second=0.0000015046,
    snapstart_restore_gb=0.0001397998,
    provisioned_gb_second={Architecture.X86_64: 0.0000041667, Architecture.ARM64: 0.0000033334},
    provisioned_duration_gb_second={
        Architecture.X86_64: 0.0000097222,
        Architecture.ARM64: 0.0000077778,
    },
)

# The main regions publish the same Lambda prices as us-east-1.
_STANDARD_PRICE_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
)

PRICE_TABLE: dict[str, RegionPrices] = {
    region: _STANDARD.model_copy(update={"region": region}) for region in _STANDARD_PRICE_REGIONS
}


def prices_for(region: str | None) -> RegionPrices:
    """Prices for a region; us-east-1 figures marked ``estimated`` for regions not in the table."""
    if region and region in PRICE_TABLE:
        return PRICE_TABLE[region]
    return _estimated_prices(region or REFERENCE_REGION)


@cache
def _estimated_prices(region: str) -> RegionPrices:
    # Cached: the engine prices every function several times, and the values are frozen.
    return _STANDARD.model_copy(update={"region": region, "estimated": True})


def init_is_billed(
    runtime: str | None, package_type: PackageType, at: datetime | None = None
) -> bool:
    """Whether the INIT phase is billed: zip functions on managed runtimes, since 2025-08-01."""
    if at is not None and at < INIT_BILLING_START:
        return False
    if package_type is not PackageType.ZIP or runtime is None:
        return False
    return not runtime.startswith("provided")


def billed_ms(duration_ms: float) -> int:
    """Lambda bills duration rounded up to the next millisecond."""
    return math.ceil(duration_ms)


def invocation_cost(
    billed_duration_ms: float,
    memory_mb: int,
    architecture: Architecture,
    prices: RegionPrices = _STANDARD,
    ephemeral_storage_mb: int = FREE_EPHEMERAL_STORAGE_MB,
) -> float:
    """USD for one invocation: compute, request, and ephemeral storage above the free 512 MB."""
    seconds = billed_duration_ms / 1000.0
    compute = seconds * memory_mb / 1024.0 * prices.gb_second[architecture]
    extra_storage_gb = max(0, ephemeral_storage_mb - FREE_EPHEMERAL_STORAGE_MB) / 1024.0
    storage = seconds * extra_storage_gb * prices.ephemeral_storage_gb_second
    return compute + storage + prices.request


def provisioned_concurrency_monthly_cost(
    provisioned: int, memory_mb: int, architecture: Architecture, prices: RegionPrices = _STANDARD
) -> float:
    """USD a month for keeping ``provisioned`` environments warm, excluding invocations."""
    return (
        provisioned
        * memory_mb
        / 1024.0
        * SECONDS_PER_MONTH
        * prices.provisioned_gb_second[architecture]
    )


def snapstart_is_free(runtime: str | None) -> bool:
    """Java pays nothing for SnapStart's cache and restores; Python and .NET do."""
    return runtime is not None and runtime.startswith("java")


def snapstart_monthly_cost(
    runtime: str | None,
    memory_mb: int,
    restores_per_month: float,
    prices: RegionPrices = _STANDARD,
    versions: int = 1,
) -> tuple[float, float]:
    """USD a month for SnapStart's cache (``versions`` published versions kept active all
    month) and for ``restores_per_month`` restores; (0, 0) for Java."""
    if snapstart_is_free(runtime):
        return 0.0, 0.0
    gb = memory_mb / 1024.0
    cache = versions * gb * SECONDS_PER_MONTH * prices.snapstart_cache_gb_second
    return cache, restores_per_month * gb * prices.snapstart_restore_gb


class MonthlyCost(Frozen):
    """A function's estimated monthly bill, broken down."""

    total_usd: float
    compute_usd: float
    requests_usd: float
    ephemeral_storage_usd: float
    provisioned_usd: float
    invocations_per_month: float
    billed_duration_ms: float
    prices_estimated: bool = False


def average_billed_duration_ms(fn: FunctionSnapshot, at: datetime | None = None) -> float | None:
    """Average billed ms per invocation, including billed init on cold starts where it applies."""
    stats = fn.stats
    if stats is None:
        return None
    if stats.billed_duration_avg_ms is not None:
        # REPORT lines' Billed Duration already includes billed init.
        return stats.billed_duration_avg_ms
    if stats.duration_avg_ms is None:
        return None
    billed = stats.duration_avg_ms + 0.5  # rounding up to the next ms, on average
    cold_rate = stats.cold_start_rate
    if cold_rate and stats.init_duration_avg_ms and init_is_billed(fn.runtime, fn.package_type, at):
        billed += cold_rate * stats.init_duration_avg_ms
    return billed


def served_by_provisioned(stats: FunctionStats) -> float:
    """The share of invocations that ran on provisioned environments, for a function with
    provisioned concurrency.

    Utilisation says how busy the environments were, not how many requests they took: 30%
    busy environments that never filled up served every request. Only when they did fill up
    (peak utilisation 100%) did requests spill over to on-demand ones; the average then is
    the best figure at hand. Unknown utilisation counts as no discount (the dearer case).
    """
    peak = stats.provisioned_concurrency_utilization_max
    if peak is not None and peak < 1.0:
        return 1.0
    average = stats.provisioned_concurrency_utilization_avg
    return min(1.0, average) if average is not None else 0.0


def monthly_cost(
    fn: FunctionSnapshot,
    *,
    memory_mb: int | None = None,
    architecture: Architecture | None = None,
    billed_duration_ms: float | None = None,
    provisioned: int | None = None,
    at: datetime | None = None,
) -> MonthlyCost | None:
    """The function's monthly cost at its observed traffic; ``None`` when traffic is unknown.

    Keyword overrides price a what-if (another memory size, architecture, duration or
    provisioned concurrency) at the same traffic.
    """
    stats = fn.stats
    if stats is None or stats.invocations_per_month is None:
        return None
    duration = (
        billed_duration_ms if billed_duration_ms is not None else average_billed_duration_ms(fn, at)
    )
    if duration is None:
        return None
    memory = memory_mb if memory_mb is not None else fn.memory_mb
    arch = architecture if architecture is not None else fn.architecture
    prices = prices_for(fn.region)
    per_month = stats.invocations_per_month
    seconds = duration / 1000.0
    compute = per_month * seconds * memory / 1024.0 * prices.gb_second[arch]
    extra_storage_gb = max(0, fn.ephemeral_storage_mb - FREE_EPHEMERAL_STORAGE_MB) / 1024.0
    storage = per_month * seconds * extra_storage_gb * prices.ephemeral_storage_gb_second
    requests = per_month * prices.request
    pc_count = provisioned if provisioned is not None else (fn.provisioned_concurrency or 0)
    provisioned_cost = provisioned_concurrency_monthly_cost(pc_count, memory, arch, prices)
    if pc_count:
        # Invocations served by provisioned environments pay the lower duration price.
        discount = prices.gb_second[arch] - prices.provisioned_duration_gb_second[arch]
        share = served_by_provisioned(stats)
        compute -= share * per_month * seconds * memory / 1024.0 * discount
    return MonthlyCost(
        total_usd=compute + storage + requests + provisioned_cost,
        compute_usd=compute,
        requests_usd=requests,
        ephemeral_storage_usd=storage,
        provisioned_usd=provisioned_cost,
        invocations_per_month=per_month,
        billed_duration_ms=duration,
        prices_estimated=prices.estimated,
    )


# CloudWatch Logs and X-Ray, us-east-1 on-demand prices (other regions are priced with these
# and the recommendation says so). Sources: https://aws.amazon.com/cloudwatch/pricing/
# ("Logs" tab: collect (data ingestion) $0.50/GB Standard, $0.25/GB Infrequent Access; store
# (archival) $0.03/GB-month) and https://aws.amazon.com/xray/pricing/ (traces recorded $5.00 per
# million; the first 100,000 traces recorded each month are free, per account).
LOGS_INGESTION_USD_PER_GB: dict[LogGroupClass, float] = {
    LogGroupClass.STANDARD: 0.50,
    LogGroupClass.INFREQUENT_ACCESS: 0.25,
}
LOGS_STORAGE_USD_PER_GB_MONTH = 0.03
XRAY_USD_PER_TRACE_RECORDED = 5.00 / 1_000_000
XRAY_FREE_TRACES_PER_MONTH = 100_000
# AWS bills logs "per GB"; tunebot counts a GB as 2**30 bytes (the smaller figure of the two).
BYTES_PER_GB = 1024**3


def log_ingestion_monthly_cost(
    bytes_per_month: float, log_class: LogGroupClass | None
) -> float | None:
    """USD a month to ingest ``bytes_per_month``; None for a class priced otherwise (Delivery).

    An unknown class is priced as Standard, the class every log group gets unless its creator
    chose another.
    """
    price = LOGS_INGESTION_USD_PER_GB.get(log_class or LogGroupClass.STANDARD)
    if price is None:
        return None
    return bytes_per_month / BYTES_PER_GB * price

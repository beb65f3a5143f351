"""COLD-001: frequent slow cold starts where a caller waits."""

from __future__ import annotations

import pytest

from recommendations.changes import ProvisionedConcurrencyChange
from recommendations.pricing import SECONDS_PER_MONTH
from recommendations.recommendation import TradeOff
from recommendations.rules.base import Outcome
from recommendations.rules.cold_start import FrequentColdStarts, supports_snapstart
from recommendations.snapshot import InvokeSource, ProvisionedConcurrencyConfig
from tests.recommendations.builders import X86_GB_S, evidence_of, function, run, single, stats

API = (InvokeSource.API_GATEWAY,)
rule = FrequentColdStarts()


def cold(**fields: object) -> object:
    base: dict[str, object] = {
        "invocations": int(SECONDS_PER_MONTH),  # one a second
        "duration_avg_ms": 500.0,
        "billed_duration_avg_ms": 520.0,
        "log_sample_invocations": 1000,
        "cold_starts": 50,
        "init_duration_avg_ms": 800.0,
    }
    base.update(fields)
    return stats(**base)


@pytest.mark.parametrize(
    ("runtime", "supported"),
    [
        ("java11", True),
        ("java21", True),
        ("java8.al2", False),
        ("python3.12", True),
        ("python3.11", False),
        ("dotnet8", True),
        ("nodejs22.x", False),
        (None, False),
    ],
)
def test_snapstart_runtimes(runtime: str | None, supported: bool) -> None:
    assert supports_snapstart(runtime) is supported


def test_snapstart_where_the_runtime_has_it() -> None:
    rec = single(run(rule, function(invoked_by=API, stats_=cold())))
    assert rec.change is None
    assert rec.title == "Enable SnapStart to cut 800 ms cold starts"
    assert rec.benchmark_first is True


# One request a second with 5% cold starts: 131,400 cold starts a month at 1 GB, 800 ms each.
COLD_PER_MONTH = SECONDS_PER_MONTH * 0.05
INIT_SAVED = COLD_PER_MONTH * 0.8 * X86_GB_S
CACHE = SECONDS_PER_MONTH * 0.0000015046  # one version of 1 GB cached all month
RESTORES = COLD_PER_MONTH * 0.0001397998  # one restore of 1 GB per cold start


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13", "dotnet8"])
def test_snapstart_for_python_and_dotnet_is_priced_net_of_cache_and_restores(
    runtime: str,
) -> None:
    rec = single(run(rule, function(runtime=runtime, invoked_by=API, stats_=cold())))
    assert (round(INIT_SAVED, 2), round(CACHE, 2), round(RESTORES, 2)) == (1.75, 3.95, 18.37)
    assert rec.monthly_savings_usd == round(INIT_SAVED - CACHE - RESTORES, 2) == -20.57
    assert rec.trade_off is TradeOff.SPEED
    assert rec.monthly_cost_before_usd is not None and rec.monthly_cost_after_usd is not None
    assert round(rec.monthly_cost_after_usd - rec.monthly_cost_before_usd, 2) == 20.57
    facts = evidence_of(rec)
    assert facts["Billed init saved"] == 1.75
    assert facts["SnapStart cache"] == 3.95
    assert facts["SnapStart restores"] == 18.37
    assert rec.notes[-1].startswith(
        "Priced with one published version cached all month (each more version with SnapStart "
        "adds $3.95)"
    )


@pytest.mark.parametrize("runtime", ["java11", "java21"])
def test_snapstart_for_java_saves_the_billed_init(runtime: str) -> None:
    rec = single(run(rule, function(runtime=runtime, invoked_by=API, stats_=cold())))
    assert rec.monthly_savings_usd == 1.75
    assert rec.trade_off is None
    assert "SnapStart cache" not in evidence_of(rec)
    assert rec.notes[-1] == "SnapStart's cache and restores are free for Java."


@pytest.mark.parametrize(
    "fields",
    [{"ephemeral_storage_mb": 1024}, {"provisioned_concurrency": 2}],
)
def test_no_snapstart_where_the_function_cannot_use_it(fields: dict[str, object]) -> None:
    fn = function(invoked_by=API, provisioned_concurrency_qualifier="live", stats_=cold(), **fields)
    rec = single(run(rule, fn))
    assert isinstance(rec.change, ProvisionedConcurrencyChange)


def test_provisioned_concurrency_elsewhere_priced_as_a_speed_trade_off() -> None:
    fn = function(
        runtime="ruby3.3", invoked_by=API, provisioned_concurrency_qualifier="live", stats_=cold()
    )
    rec = single(run(rule, fn))
    # One request a second × 0.5 s = 0.5 concurrent on average: one warm environment.
    assert rec.change == ProvisionedConcurrencyChange(
        function_name="orders", qualifier="live", before=0, after=1
    )
    assert rec.monthly_savings_usd == -round(1 * SECONDS_PER_MONTH * 0.0000041667, 2) == -10.95
    assert rec.trade_off is TradeOff.SPEED


def test_provisioned_concurrency_is_added_to_its_alias_only() -> None:
    """Another alias holds provisioned concurrency too: the change starts from what "live"
    requests (the applier compares that), the price from every alias's environments."""
    configs = (
        ProvisionedConcurrencyConfig(qualifier="canary", requested=2, allocated=2),
        ProvisionedConcurrencyConfig(qualifier="live", requested=3, allocated=1),
    )
    fn = function(
        runtime="ruby3.3",
        invoked_by=API,
        provisioned_concurrency_qualifier="live",
        provisioned_concurrency_configs=configs,
        stats_=cold(),
    )
    rec = single(run(rule, fn))
    assert rec.change == ProvisionedConcurrencyChange(
        function_name="orders", qualifier="live", before=3, after=4
    )
    # One more warm environment than the three warm now (2 + 1 allocated).
    assert rec.monthly_savings_usd == -10.95


def test_without_an_alias_the_advice_says_to_publish_one() -> None:
    rec = single(run(rule, function(runtime="ruby3.3", invoked_by=API, stats_=cold())))
    assert rec.change is None
    assert rec.rationale.endswith(
        "Publish a version behind an alias first: provisioned concurrency needs one."
    )


@pytest.mark.parametrize("fields", [{"cold_starts": 5}, {"init_duration_avg_ms": 300.0}])
def test_passes_with_rare_or_quick_cold_starts(fields: dict[str, object]) -> None:
    assert run(rule, function(invoked_by=API, stats_=cold(**fields))).outcome is Outcome.PASS


def test_not_applicable_when_nobody_waits() -> None:
    fn = function(invoked_by=(InvokeSource.S3,), stats_=cold())
    assert run(rule, fn).outcome is Outcome.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("fields", "invoked_by"),
    [({}, None), ({"cold_starts": None}, API), ({"log_sample_invocations": 20}, API)],
)
def test_unknown_without_the_data(fields: dict[str, object], invoked_by: object) -> None:
    fn = function(invoked_by=invoked_by, stats_=cold(**fields))
    assert run(rule, fn).outcome is Outcome.UNKNOWN

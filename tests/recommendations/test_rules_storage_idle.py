"""STO-001 (ephemeral storage above 512 MB) and IDLE-001 (idle functions with a standing cost)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from recommendations.changes import EphemeralStorageChange, ProvisionedConcurrencyChange
from recommendations.pricing import SECONDS_PER_MONTH
from recommendations.recommendation import Confidence, Risk, Severity
from recommendations.rules.base import Outcome
from recommendations.rules.idle import IdleWithStandingCost
from recommendations.rules.storage import EphemeralStorageOverProvisioned
from recommendations.snapshot import FunctionStats
from tests.recommendations.builders import (
    NOW,
    REQUEST,
    X86_GB_S,
    evidence_of,
    function,
    run,
    single,
    stats,
)

storage = EphemeralStorageOverProvisioned()
idle = IdleWithStandingCost()
STORAGE_GB_S = 0.0000000309
PC_GB_S = 0.0000041667


def busy(**fields: Any) -> FunctionStats:
    return stats(**{"invocations": 1_000_000, "billed_duration_avg_ms": 1000.0, **fields})


def test_storage_above_512_mb_priced_and_proposed_back_to_512() -> None:
    rec = single(run(storage, function(ephemeral_storage_mb=10240, stats_=busy())))
    # 1M invocations × 1 s × 9.5 GB above the free 512 MB.
    extra = 1_000_000 * 1.0 * (10240 - 512) / 1024 * STORAGE_GB_S
    assert round(extra, 2) == 0.29
    assert rec.change == EphemeralStorageChange(function_name="orders", before=10240, after=512)
    assert rec.monthly_savings_usd == 0.29
    assert rec.monthly_cost_before_usd == round(1_000_000 * (X86_GB_S + REQUEST) + extra, 2)
    assert rec.monthly_cost_after_usd == round(1_000_000 * (X86_GB_S + REQUEST), 2)
    assert (rec.severity, rec.confidence, rec.risk) == (Severity.LOW, Confidence.LOW, Risk.HIGH)
    assert evidence_of(rec) == {
        "Ephemeral storage": 10240,
        "Billed above the free 512 MB": 9728,
        "Ephemeral storage cost": 0.29,
        "/tmp used": "not published by Lambda",
    }


def test_storage_worth_less_than_ten_cents_passes() -> None:
    result = run(storage, function(ephemeral_storage_mb=2048, stats_=busy(invocations=1000)))
    assert (result.outcome, result.reason) == (Outcome.PASS, "2048 MB of /tmp costs $0.00 a month")


def test_storage_not_applicable_at_512_and_unknown_without_traffic() -> None:
    assert run(storage, function(stats_=busy())).outcome is Outcome.NOT_APPLICABLE
    result = run(storage, function(ephemeral_storage_mb=4096, stats_=stats()))
    assert result.outcome is Outcome.UNKNOWN
    assert result.reason == "traffic or duration is unknown, so the storage cannot be priced"


def quiet(**fields: Any) -> FunctionStats:
    return FunctionStats(
        **{"window_days": 14, "invocations": 0, "invocations_last_30_days": 0, **fields}
    )


def test_idle_provisioned_concurrency_removed() -> None:
    fn = function(
        provisioned_concurrency=5, provisioned_concurrency_qualifier="live", stats_=quiet()
    )
    rec = single(run(idle, fn))
    standing = 5 * 1.0 * SECONDS_PER_MONTH * PC_GB_S
    assert round(standing, 2) == 54.75
    assert rec.change == ProvisionedConcurrencyChange(
        function_name="orders", qualifier="live", before=5, after=0
    )
    assert rec.monthly_savings_usd == 54.75
    assert (rec.monthly_cost_before_usd, rec.monthly_cost_after_usd) == (54.75, 0.0)
    assert rec.confidence is Confidence.HIGH
    assert evidence_of(rec) == {
        "Invocations": 0,
        "Provisioned concurrency": 5,
        "Provisioned concurrency cost": 54.75,
    }
    assert rec.evidence[0].unit == "in the last 30 days"


def test_idle_reservation_is_advice() -> None:
    rec = single(run(idle, function(reserved_concurrency=10, stats_=quiet())))
    assert rec.change is None
    assert rec.title == "Release the reserved concurrency (10) of an idle function"
    assert rec.severity is Severity.LOW


def test_a_thirty_day_window_needs_no_extra_figure() -> None:
    fn = function(
        provisioned_concurrency=1,
        provisioned_concurrency_qualifier="live",
        stats_=FunctionStats(window_days=30, invocations=0),
    )
    rec = single(run(idle, fn))
    assert rec.evidence[0].unit == "in 30 days"


@pytest.mark.parametrize(
    ("fields", "stats_", "reason"),
    [
        ({"reserved_concurrency": 10}, quiet(invocations=3), "3 invocations in the window"),
        (
            {"reserved_concurrency": 10},
            quiet(invocations_last_30_days=7),
            "7 invocations in the last 30 days",
        ),
        ({}, quiet(), "idle for 30+ days, but nothing standing costs money"),
        ({"reserved_concurrency": 0}, quiet(), "reserved concurrency 0: switched off on purpose"),
    ],
)
def test_idle_passes(fields: dict[str, Any], stats_: FunctionStats, reason: str) -> None:
    result = run(idle, function(stats_=stats_, **fields))
    assert (result.outcome, result.reason) == (Outcome.PASS, reason)


def test_idle_recently_changed_may_be_new() -> None:
    fn = function(reserved_concurrency=10, last_modified=NOW - timedelta(days=3), stats_=quiet())
    rec = single(run(idle, fn))
    assert rec.confidence is Confidence.MEDIUM
    assert evidence_of(rec)["Last modified"] == 3.0
    assert rec.notes == ("orders was changed 3 days ago: it may be new, not unused.",)
    old = function(reserved_concurrency=10, last_modified=NOW - timedelta(days=90), stats_=quiet())
    assert single(run(idle, old)).confidence is Confidence.HIGH


def test_idle_unknown_without_the_thirty_days() -> None:
    result = run(
        idle, function(reserved_concurrency=10, stats_=quiet(invocations_last_30_days=None))
    )
    assert (result.outcome, result.reason) == (
        Outcome.UNKNOWN,
        "no invocations in the 14-day window; the 30 days were not read",
    )
    assert run(idle, function()).outcome is Outcome.UNKNOWN

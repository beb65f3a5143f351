"""The one memory-headroom policy: margins, risk thresholds, and both sides using it."""

from __future__ import annotations

import pytest

from recommendations.headroom import (
    COMFORTABLE_MARGIN,
    REQUIRED_MARGIN,
    keeps_required_margin,
    margin_over_peak,
    risk_for_margin,
    risk_for_size,
)
from recommendations.recommendation import Confidence, Risk
from recommendations.rules import memory
from recommendations.snapshot import Architecture
from recommendations.tuning import physics, samples
from recommendations.tuning.objective import Objective
from recommendations.tuning.recommend import recommendations_from_result
from recommendations.tuning.request import SearchKind
from recommendations.tuning.result import ConfigurationEstimate, TuningResult


@pytest.mark.parametrize(
    ("memory_mb", "peak", "risk"),
    [(260, 200, Risk.LOW), (259, 200, Risk.MEDIUM), (220, 200, Risk.MEDIUM), (219, 200, Risk.HIGH)],
)
def test_risk_follows_the_margin_thresholds(memory_mb: int, peak: int, risk: Risk) -> None:
    assert risk_for_size(memory_mb, peak) is risk


def test_an_unknown_peak_is_medium_risk_and_imposes_no_floor() -> None:
    assert risk_for_size(128, None) is Risk.MEDIUM
    assert risk_for_margin(None) is Risk.MEDIUM
    assert keeps_required_margin(128, None)


def test_margin_is_the_share_above_the_peak() -> None:
    assert margin_over_peak(130, 100) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        margin_over_peak(128, 0)


def test_static_rules_and_benchmark_read_the_same_policy() -> None:
    assert memory.SIZE_DOWN_HEADROOM == memory.SIZE_UP_HEADROOM == 1 + COMFORTABLE_MARGIN
    assert samples.HEADROOM == 1 + REQUIRED_MARGIN
    assert physics.minimum_memory_mb(1000) == 1100
    assert keeps_required_margin(1100, 1000) and not keeps_required_margin(1099, 1000)


def _result(best_mb: int, peak_mb: int | None) -> TuningResult:
    current = ConfigurationEstimate(
        memory_mb=1024, architecture=Architecture.X86_64, monthly_cost_usd=100.0
    )
    best = ConfigurationEstimate(
        memory_mb=best_mb,
        architecture=Architecture.X86_64,
        monthly_cost_usd=40.0,
        max_memory_used_mb=peak_mb,
    )
    return TuningResult(
        function_name="fn",
        search=SearchKind.GRID,
        objective=Objective(),
        best=best,
        current=current,
        invocations=10,
        gb_seconds=1.0,
        tuning_cost_usd=0.01,
        confidence=Confidence.HIGH,
        confidence_statement="",
        stop_reason="done",
    )


@pytest.mark.parametrize(
    ("best_mb", "peak", "risk"),
    [(198, 180, Risk.MEDIUM), (256, 180, Risk.LOW), (256, None, Risk.MEDIUM)],
)
def test_a_benchmarks_winner_is_labelled_by_its_margin(
    best_mb: int, peak: int | None, risk: Risk
) -> None:
    (rec,) = recommendations_from_result(
        _result(best_mb, peak),
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        region="us-east-1",
        account_id="123456789012",
        current_memory_mb=1024,
        current_architecture=Architecture.X86_64,
    )
    assert rec.risk is risk
    if peak:
        assert f"over the {peak} MB peak" in rec.rationale


def test_a_zero_peak_is_described_without_a_share() -> None:
    # Found by the property test: MEM-001 raised on REPORT lines reading 0 MB used.
    from recommendations.headroom import describe_margin

    assert describe_margin(128, 0) == "is above the 0 MB peak"

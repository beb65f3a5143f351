"""The duration model, the objective, and turning a result into recommendations."""

from __future__ import annotations

import pytest

from recommendations.changes import ArchitectureChange, MemoryChange
from recommendations.recommendation import Category, Confidence
from recommendations.snapshot import Architecture
from recommendations.tuning.model import FitPoint, fit, fit_joint
from recommendations.tuning.objective import Candidate, Objective, Strategy, choose
from recommendations.tuning.physics import expected_duration_ms
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.recommend import (
    ARCHITECTURE_RULE_ID,
    MEMORY_RULE_ID,
    recommendations_from_result,
)
from recommendations.tuning.request import SearchKind
from recommendations.tuning.result import ConfigurationEstimate, TuningResult

X86 = Architecture.X86_64
ARM = Architecture.ARM64
PROFILE = SimulationProfile(
    cpu_ms=900, io_ms=10, memory_used_mb=300, gc_factor=0.4, arm_speed=1.3, parallel_fraction=0.3
)
MEMORIES = (330, 760, 1769, 2800)


def _points(architecture: Architecture) -> list[FitPoint]:
    return [FitPoint(m, expected_duration_ms(PROFILE, m, architecture), 5) for m in MEMORIES]


def test_noise_free_points_are_fitted_exactly() -> None:
    model = fit(_points(X86), 300, 1e-4)
    assert model is not None
    for memory in (330, 500, 1000, 1769, 2800):
        assert model.duration_ms(memory) == pytest.approx(
            expected_duration_ms(PROFILE, memory, X86), rel=1e-6
        )


def test_joint_fit_recovers_the_cpu_speed_ratio() -> None:
    models = fit_joint({X86: _points(X86), ARM: _points(ARM)}, 300, 1e-4)
    x86, arm = models[X86], models[ARM]
    assert x86.coefficients[0] == pytest.approx(arm.coefficients[0])  # shared waiting time
    assert arm.coefficients[1] / x86.coefficients[1] == pytest.approx(1 / 1.3, rel=1e-3)
    assert arm.duration_ms(1000) == pytest.approx(
        expected_duration_ms(PROFILE, 1000, ARM), rel=1e-3
    )


CANDIDATES = [
    Candidate(memory_mb=512, architecture=X86, duration_ms=400, cost_usd=1.00),
    Candidate(memory_mb=1024, architecture=X86, duration_ms=210, cost_usd=1.05),
    Candidate(memory_mb=2048, architecture=X86, duration_ms=120, cost_usd=1.20),
]


@pytest.mark.parametrize(
    ("objective", "memory"),
    [
        (Objective(), 512),
        (Objective(strategy=Strategy.SPEED), 2048),
        (Objective(strategy=Strategy.FASTEST_WITHIN, within_percent=10), 1024),
        (Objective(strategy=Strategy.FASTEST_WITHIN, within_percent=25), 2048),
        (Objective(max_duration_ms=300), 1024),
    ],
)
def test_objectives(objective: Objective, memory: int) -> None:
    best = choose(CANDIDATES, objective)
    assert best is not None
    assert best.memory_mb == memory


def test_an_unmeetable_duration_limit_chooses_nothing() -> None:
    assert choose(CANDIDATES, Objective(max_duration_ms=50)) is None


def _estimate(memory: int, architecture: Architecture, monthly: float) -> ConfigurationEstimate:
    return ConfigurationEstimate(
        memory_mb=memory,
        architecture=architecture,
        duration_ms=100.0,
        cost_per_invocation_usd=monthly / 1_000_000,
        monthly_cost_usd=monthly,
        invocations=6,
        warm_invocations=5,
    )


def _result(best: ConfigurationEstimate, on_current: ConfigurationEstimate) -> TuningResult:
    return TuningResult(
        function_name="checkout",
        search=SearchKind.ADAPTIVE,
        objective=Objective(),
        best=best,
        current=_estimate(1024, X86, 100.0),
        best_on_current_architecture=on_current,
        invocations=48,
        gb_seconds=50.0,
        tuning_cost_usd=0.001,
        confidence=Confidence.HIGH,
        confidence_statement="Sure.",
        stop_reason="the choice is clear",
        invocations_per_month=1_000_000,
        max_memory_used_mb=300,
    )


def test_memory_and_architecture_become_two_recommendations_with_split_savings() -> None:
    outcome = _result(_estimate(1769, ARM, 60.0), _estimate(1769, X86, 80.0))
    memory, architecture = recommendations_from_result(
        outcome,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:checkout",
        region="us-east-1",
        account_id="123456789012",
        current_memory_mb=1024,
        current_architecture=X86,
    )
    assert memory.rule_id == MEMORY_RULE_ID and memory.category is Category.MEMORY
    assert memory.change == MemoryChange(function_name="checkout", before=1024, after=1769)
    assert memory.monthly_savings_usd == pytest.approx(20.0)
    assert architecture.rule_id == ARCHITECTURE_RULE_ID
    assert architecture.change == ArchitectureChange(
        function_name="checkout", before=X86, after=ARM
    )
    assert architecture.monthly_savings_usd == pytest.approx(20.0)
    assert memory.confidence is Confidence.HIGH


def test_nothing_to_recommend_when_the_current_configuration_wins() -> None:
    outcome = _result(_estimate(1024, X86, 100.0), _estimate(1024, X86, 100.0))
    assert (
        recommendations_from_result(
            outcome,
            function_arn="arn:aws:lambda:us-east-1:123456789012:function:checkout",
            region="us-east-1",
            account_id="123456789012",
            current_memory_mb=1024,
            current_architecture=X86,
        )
        == []
    )

"""The rule helpers' shortcuts give exactly what the plain computation gives."""

from __future__ import annotations

from datetime import timedelta

from recommendations.pricing import monthly_cost
from recommendations.rules.helpers import cost, evidence
from tests.recommendations.builders import NOW, function, stats


def test_equal_evidence_is_shared_but_an_int_never_stands_for_a_float() -> None:
    assert evidence("Memory", 1024, "MB") is evidence("Memory", 1024, "MB")
    as_float = evidence("Memory", 1024.0, "MB")
    assert isinstance(as_float.value, float) and as_float.display() == "Memory: 1,024 MB"
    assert isinstance(evidence("Memory", 1024, "MB").value, int)


def test_the_remembered_current_cost_belongs_to_that_function_and_time() -> None:
    cheap = function("cheap", stats(invocations=1_000_000, billed_duration_avg_ms=100.0))
    dear = function("dear", stats(invocations=1_000_000, billed_duration_avg_ms=900.0))
    before_billing = NOW.replace(year=2025, month=7)
    cold = function(
        "cold",
        stats(
            invocations=1_000_000,
            duration_avg_ms=100.0,
            log_sample_invocations=100,
            cold_starts=50,
            init_duration_avg_ms=1000.0,
        ),
    )
    for fn, at in ((cheap, NOW), (dear, NOW), (cheap, NOW), (cold, NOW), (cold, before_billing)):
        assert cost(fn, at) == monthly_cost(fn, at=at)
    # Init is billed only from August 2025: the same function at another time costs less.
    assert cost(cold, NOW).total_usd > cost(cold, before_billing).total_usd  # type: ignore[union-attr]
    # A what-if never comes from the remembered entry.
    what_if = cost(dear, NOW, memory_mb=512)
    assert what_if == monthly_cost(dear, memory_mb=512, at=NOW)
    assert what_if != cost(dear, NOW)
    assert cost(dear, NOW + timedelta(days=1)) == monthly_cost(dear, at=NOW)

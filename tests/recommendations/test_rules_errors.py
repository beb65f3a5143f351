"""ERR-001 (errors as wasted compute) and ERR-002 (retry storms against a throttling downstream)."""

from __future__ import annotations

from typing import Any

import pytest

from recommendations.recommendation import Severity
from recommendations.rules.base import Outcome
from recommendations.rules.errors import DownstreamRetryStorm, ErrorsWasteCompute
from recommendations.snapshot import ErrorTypeCount
from tests.recommendations.builders import (
    REQUEST,
    X86_GB_S,
    evidence_of,
    function,
    run,
    single,
    stats,
)

waste = ErrorsWasteCompute()
storm = DownstreamRetryStorm()


def failing(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "invocations": 1_000_000,
        "errors": 50_000,
        "billed_duration_avg_ms": 200.0,
        "log_sample_invocations": 1000,
        "timeouts": 0,
    }
    base.update(fields)
    return stats(**base)


def test_failures_priced_at_the_average_billed_duration() -> None:
    types = (ErrorTypeCount(name="KeyError", count=120), ErrorTypeCount(name="ValueError", count=8))
    rec = single(run(waste, function(stats_=failing(top_error_types=types))))
    # 50,000 failures a month × (0.2 s × 1 GB × x86 price + a request).
    expected = 50_000 * (0.2 * X86_GB_S + REQUEST)
    assert round(expected, 2) == 0.18
    assert rec.title == "5.0% of invocations fail, wasting $0.18 a month"
    assert rec.severity is Severity.MEDIUM
    assert rec.change is None
    assert rec.monthly_savings_usd is None  # fixing errors does not make the work free
    assert evidence_of(rec) == {
        "Errors": 50_000,
        "Error rate": 5.0,
        "Failed invocations a month": 50_000,
        "Billed duration assumed per failure": 200.0,
        "Cost of failed invocations": 0.18,
        "Top error types": "KeyError × 120, ValueError × 8",
    }
    assert "The most frequent error is KeyError." in rec.rationale


def test_timeouts_are_billed_the_whole_timeout_and_over_ten_percent_is_high() -> None:
    # 1% of the sampled invocations timed out: 10,000 of the 150,000 failures a month.
    rec = single(run(waste, function(stats_=failing(errors=150_000, timeouts=10))))
    expected = 140_000 * (0.2 * X86_GB_S + REQUEST) + 10_000 * (30 * X86_GB_S + REQUEST)
    assert round(expected, 2) == 5.50
    assert rec.severity is Severity.HIGH
    facts = evidence_of(rec)
    assert facts["Timed out a month"] == 10_000
    assert facts["Cost of failed invocations"] == 5.5
    assert facts["Top error types"] == "not read from the logs"


def test_error_types_read_but_none_named() -> None:
    rec = single(run(waste, function(stats_=failing(top_error_types=()))))
    assert evidence_of(rec)["Top error types"] == "none named in the log lines"


def test_passes_at_one_percent() -> None:
    result = run(waste, function(stats_=failing(errors=10_000)))
    assert result.outcome is Outcome.PASS
    assert result.reason == "1.0% of invocations failed"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"errors": None}, "errors or invocations are unknown"),
        (
            {"billed_duration_avg_ms": None},
            "the duration is unknown, so the failures cannot be priced",
        ),
    ],
)
def test_unknown_without_the_data(fields: dict[str, Any], reason: str) -> None:
    result = run(waste, function(stats_=failing(**fields)))
    assert (result.outcome, result.reason) == (Outcome.UNKNOWN, reason)
    assert run(waste, function()).outcome is Outcome.UNKNOWN


def test_not_applicable_without_invocations() -> None:
    result = run(waste, function(stats_=failing(invocations=0, errors=0)))
    assert result.outcome is Outcome.NOT_APPLICABLE


THROTTLED = (
    ErrorTypeCount(name="KeyError", count=40),
    ErrorTypeCount(name="ThrottlingException", count=30),
    ErrorTypeCount(name="HTTP 429", count=5),
)


def test_retry_storm_with_its_evidence() -> None:
    fn = function(stats_=stats(top_error_types=THROTTLED, log_sample_invocations=1000, errors=75))
    rec = single(run(storm, fn))
    assert rec.title == "Back off with jitter: 35 throttling errors from a downstream"
    assert rec.severity is Severity.MEDIUM
    assert rec.change is None
    assert evidence_of(rec) == {
        "Throttling errors in the logs": "ThrottlingException × 30, HTTP 429 × 5",
        "Throttling lines": 35,
        "Share of invocations": 3.5,
        "Errors": 75,
    }
    assert "exponential backoff and jitter" in rec.rationale


def test_throttling_on_five_percent_is_high() -> None:
    fn = function(stats_=stats(top_error_types=THROTTLED, log_sample_invocations=500, errors=75))
    assert single(run(storm, fn)).severity is Severity.HIGH


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"top_error_types": (ErrorTypeCount(name="ThrottlingException", count=4),)},
            "4 log lines name a throttling error",
        ),
        (
            {"top_error_types": (ErrorTypeCount(name="KeyError", count=400),)},
            "0 log lines name a throttling error",
        ),
        ({"top_error_types": None, "errors": 0}, "no invocation failed in the window"),
    ],
)
def test_retry_storm_passes(fields: dict[str, Any], reason: str) -> None:
    result = run(storm, function(stats_=stats(**{"errors": 3, **fields})))
    assert (result.outcome, result.reason) == (Outcome.PASS, reason)


def test_retry_storm_unknown_when_the_logs_were_not_read() -> None:
    result = run(storm, function(stats_=stats(errors=12)))
    assert (result.outcome, result.reason) == (
        Outcome.UNKNOWN,
        "the error types in the logs were not read",
    )
    assert run(storm, function()).outcome is Outcome.UNKNOWN

"""Failures are data: recorded per configuration, reasoned about, optionally allowed."""

from __future__ import annotations

from aws.invokers.simulator import SimulatorInvoker
from recommendations.snapshot import Architecture
from recommendations.tuning.failures import allow, failure_counts
from recommendations.tuning.observation import ErrorKind, Observation
from recommendations.tuning.outcome import result
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.request import TuningRequest
from recommendations.tuning.search import run, start

X86 = Architecture.X86_64
FLAKY = SimulationProfile(
    cpu_ms=300,
    io_ms=80,
    memory_used_mb=150,
    init_ms=300,
    noise_cv=0.05,
    error_rate=0.25,
    error_type="ValidationError",
)


def _request(**overrides: object) -> TuningRequest:
    fields: dict[str, object] = {"function_name": "fn", "architectures": (X86,), "seed": 1}
    fields.update(overrides)
    return TuningRequest.model_validate(fields)


def test_failing_sizes_are_recorded_and_the_search_goes_on() -> None:
    state = run(start(_request()), SimulatorInvoker(FLAKY, seed=1))
    outcome = result(state)
    failed = [r for r in outcome.results if r.failures]
    assert failed, "some configurations failed"
    assert all(r.failures == {"error: ValidationError": 1} for r in failed)
    assert all(not r.feasible for r in failed)
    assert outcome.best is not None
    assert (outcome.best.memory_mb, outcome.best.architecture) not in {
        (r.memory_mb, r.architecture) for r in failed
    }


def test_allowed_error_types_are_measured_like_successes() -> None:
    state = run(
        start(_request(allowed_errors=("ValidationError",))), SimulatorInvoker(FLAKY, seed=1)
    )
    outcome = result(state)
    assert not any(o.error for o in state.observations)
    assert sum(r.failures.get("allowed: ValidationError", 0) for r in outcome.results) > 0
    assert all(r.feasible for r in outcome.results)


def test_only_listed_types_are_allowed() -> None:
    request = _request(allowed_errors=("ValidationError",))
    other = Observation(
        memory_mb=512,
        architecture=X86,
        duration_ms=10,
        billed_duration_ms=10,
        error=ErrorKind.ERROR,
        error_type="KeyError",
    )
    out_of_memory = other.model_copy(
        update={"error": ErrorKind.OUT_OF_MEMORY, "error_type": "ValidationError"}
    )
    assert allow(other, request).error is ErrorKind.ERROR
    assert allow(out_of_memory, request).error is ErrorKind.OUT_OF_MEMORY
    assert failure_counts([other, out_of_memory]) == {"error: KeyError": 1, "out_of_memory": 1}

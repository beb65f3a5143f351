"""The tuning state machine's three steps, looped as Step Functions would, through JSON."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

import aws.invokers.lambda_invoker as lambda_invoker
from aws.invokers.simulator import SimulatorInvoker
from handlers import tuning_steps
from recommendations.snapshot import Architecture
from recommendations.tuning.outcome import result
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.request import TuningRequest
from recommendations.tuning.search import run, start

PROFILE = SimulationProfile(
    cpu_ms=300, io_ms=80, memory_used_mb=150, init_ms=300, noise_cv=0.1, gc_factor=0.5
)
REQUEST = TuningRequest(
    function_name="orders",
    architectures=(Architecture.X86_64, Architecture.ARM64),
    seed=3,
)


class _SimulatedLambda:
    """LambdaBenchmark's interface over one simulator shared by every batch."""

    simulator = SimulatorInvoker(PROFILE, seed=3)
    opened = 0
    closed = 0
    seen: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, name: str, **kwargs: Any) -> None:
        _SimulatedLambda.seen.append({"name": name, **kwargs})

    def __enter__(self) -> _SimulatedLambda:
        _SimulatedLambda.opened += 1
        return self

    def __exit__(self, *_: Any) -> None:
        _SimulatedLambda.closed += 1

    def invoke(self, probes: Any) -> Any:
        return self.simulator.invoke(probes)


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 800_000


def _through_json(document: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(document)))


def test_the_loop_reaches_the_same_result_as_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _SimulatedLambda)
    document: dict[str, Any] = {
        "request": REQUEST.model_dump(mode="json"),
        "payload": {"order": 7},
        "in_place": False,
    }
    for _ in range(50):
        document = _through_json(tuning_steps.plan(document, _Context()))
        document = _through_json(tuning_steps.invoke_batch(document, _Context()))
        document = _through_json(tuning_steps.update(document, _Context()))
        if document["done"]:
            break
    assert document["done"] is True
    expected = result(run(start(REQUEST), SimulatorInvoker(PROFILE, seed=3)))
    assert document["result"] == expected.model_dump(mode="json")
    assert document["payload"] == {"order": 7}
    assert _SimulatedLambda.opened == _SimulatedLambda.closed > 0
    assert all(seen["in_place"] is False for seen in _SimulatedLambda.seen)


def test_bad_input_fails_with_one_sentence() -> None:
    with pytest.raises(tuning_steps.StepInputError, match="needs a 'state'"):
        tuning_steps.plan({})
    with pytest.raises(tuning_steps.StepInputError, match="at function_name"):
        tuning_steps.plan({"request": {"function_name": ""}})

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
    with pytest.raises(tuning_steps.StepInputError, match=r"at request\.function_name"):
        tuning_steps.plan({"request": {"function_name": ""}})


def _planned() -> dict[str, Any]:
    return _through_json(tuning_steps.plan({"request": REQUEST.model_dump(mode="json")}))


def _with_state(**changes: Any) -> dict[str, Any]:
    document = _planned()
    document["state"] = {**document["state"], **changes}
    return document


@pytest.mark.parametrize(
    ("step", "document", "message"),
    [
        ("plan", 5, "takes a JSON object with a 'state'"),
        ("update", ["state"], "takes a JSON object with a 'state'"),
        ("plan", {"state": "x"}, "at state: Input should be a valid dictionary"),
        ("update", {**_planned(), "observations": 5}, "at observations: it must be a list"),
        (
            "update",
            {**_planned(), "observations": [{"memory_mb": 64}]},
            "at observations.0.memory_mb: Input should be greater than or equal to 128",
        ),
        (
            "invoke_batch",
            {**_planned(), "probes": [{"memory_mb": 512, "architecture": "x86_64", "count": 0}]},
            "at probes.0.count",
        ),
        (
            "invoke_batch",
            {
                **_with_state(
                    request={**REQUEST.model_dump(mode="json"), "architectures": ["x86_64"]}
                ),
                "probes": [{"memory_mb": 512, "architecture": "arm64", "count": 1}],
            },
            "probes.0.architecture: arm64 is not one of the request's architectures",
        ),
        ("plan", {**_planned(), "in_place": "false"}, "at in_place: it must be true or false"),
        ("plan", _with_state(schema_version=2), "saved by another version of tunebot"),
        ("update", _with_state(rounds=-1), "at state.rounds: it must not be negative"),
        (
            "invoke_batch",
            {**_planned(), "payload": [{"weight": 0, "payload": {}}]},
            "Payload 1 needs a positive number as its weight",
        ),
    ],
)
def test_malformed_step_input_fails_with_one_sentence(
    step: str, document: Any, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _SimulatedLambda)
    with pytest.raises(tuning_steps.StepInputError) as raised:
        getattr(tuning_steps, step)(document, _Context())
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)

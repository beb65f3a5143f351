"""Fuzzing the tuning state machine's steps with mutations of real step documents.

Step Functions hands each step the previous step's output, which an operator may also write
by hand (the execution input) or edit when redriving a run. Whatever arrives, a step returns
the next document (whose state reads back) or fails with one :class:`StepInputError` sentence,
and it benchmarks only inputs that passed: the benchmark sees a boolean ``in_place`` and
probes of the request's own architectures.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings

import aws.invokers.lambda_invoker as lambda_invoker
from aws.invokers.simulator import SimulatorInvoker
from handlers import tuning_steps
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Probe
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.request import TuningRequest, TuningState
from tests.fuzz.mutations import FUZZ, mutated

PROFILE = SimulationProfile(cpu_ms=200, io_ms=40, memory_used_mb=150, noise_cv=0.1)
REQUEST = TuningRequest(
    function_name="orders", architectures=(Architecture.X86_64, Architecture.ARM64), seed=1
)


class _Benchmark:
    """LambdaBenchmark's interface over the simulator, recording what it is asked to run."""

    invoked: ClassVar[list[Probe]] = []

    def __init__(self, name: str, *, in_place: Any, **_: Any) -> None:
        assert isinstance(in_place, bool)
        self.simulator = SimulatorInvoker(PROFILE, seed=1)

    def __enter__(self) -> _Benchmark:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def invoke(self, probes: list[Probe]) -> Any:
        _Benchmark.invoked.extend(probes)
        return self.simulator.invoke(probes)


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 800_000


def _documents() -> list[dict[str, Any]]:
    """Real documents of one run: the start, and after each plan, invoke and update."""
    document: dict[str, Any] = {
        "request": REQUEST.model_dump(mode="json"),
        "payload": {"order": 7},
        "in_place": False,
    }
    found = [document]
    for step in (tuning_steps.plan, tuning_steps.invoke_batch, tuning_steps.update):
        document = json.loads(json.dumps(step(document, _Context())))
        found.append(document)
    return found


STEPS = {
    "plan": tuning_steps.plan,
    "invoke_batch": tuning_steps.invoke_batch,
    "update": tuning_steps.update,
}


# Each stage gets its own examples (Hypothesis favours the first of several choices); the steps
# are pure computation here, so many examples fit in the time.
@pytest.mark.parametrize("stage", ["start", "planned", "invoked", "updated"])
@pytest.mark.parametrize("step", sorted(STEPS))
def test_mutated_step_documents_give_the_next_document_or_one_sentence(
    stage: str, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _Benchmark)
    original = dict(zip(["start", "planned", "invoked", "updated"], _documents(), strict=True))[
        stage
    ]

    @settings(FUZZ, max_examples=40)
    @given(mutated(original))
    def run(document: Any) -> None:
        before = json.dumps(document, sort_keys=True)
        _Benchmark.invoked.clear()
        try:
            output = STEPS[step](document, _Context())
        except tuning_steps.StepInputError as error:
            message = str(error)
            assert message and "\n" not in message and len(message) < 400, message
            assert _Benchmark.invoked == []
            return
        finally:
            # A step never edits the document it was given (Step Functions keeps it).
            assert json.dumps(document, sort_keys=True) == before
        assert isinstance(output["done"], bool)
        state = TuningState.model_validate(json.loads(json.dumps(output["state"])))
        assert {p.architecture for p in _Benchmark.invoked} <= set(state.request.architectures)

    run()

"""The tuning state machine as written in template.yaml, run against the real step handlers.

A small interpreter executes the template's Amazon States Language definition (the subset it
uses: lambda:invoke tasks with ``Payload.$: $`` and ``OutputPath: $.Payload``, a Choice on a
boolean, Succeed), passing JSON between states as Step Functions does and calling the Python
handler that each substituted function ARN deploys. Only the AWS side of ``invoke_batch`` is
replaced: the benchmark runs on the simulator. So the definition, the handlers' input and
output documents and the ``done`` contract are checked together.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, ClassVar

import pytest

from aws.invokers.simulator import SimulatorInvoker
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.profile import SimulationProfile
from recommendations.tuning.request import TuningRequest
from recommendations.tuning.search import run, start
from tests.deploy.cfn import functions, load_template

TEMPLATE = load_template()
MACHINE = TEMPLATE["Resources"]["TuningStateMachine"]["Properties"]
MAX_TRANSITIONS = 2_000

PROFILE = SimulationProfile(
    name="cpu-bound",
    cpu_ms=800.0,
    io_ms=20.0,
    memory_used_mb=180,
    noise_cv=0.05,
    architecture=Architecture.X86_64,
)


def _handler_for(substitution: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    logical_id = MACHINE["DefinitionSubstitutions"][substitution]["Fn::GetAtt"][0]
    module_name, _, attribute = functions(TEMPLATE)[logical_id]["Handler"].rpartition(".")
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(
        importlib.import_module(module_name), attribute
    )
    return handler


def execute(machine_input: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Run the definition from StartAt to a Succeed state; returns (output, states visited)."""
    definition = MACHINE["Definition"]
    states = definition["States"]
    name = definition["StartAt"]
    document = json.loads(json.dumps(machine_input))
    visited: list[str] = []
    for _ in range(MAX_TRANSITIONS):
        visited.append(name)
        state = states[name]
        if state["Type"] == "Succeed":
            return document, visited
        if state["Type"] == "Task":
            assert state["Resource"] == "arn:aws:states:::lambda:invoke"
            assert state["Parameters"]["Payload.$"] == "$"
            assert state["OutputPath"] == "$.Payload"
            substitution = state["Parameters"]["FunctionName"].strip("${}")
            payload = _handler_for(substitution)(json.loads(json.dumps(document)), None)
            # lambda:invoke returns {"Payload": ..., "StatusCode": ...}; OutputPath keeps Payload.
            document = json.loads(json.dumps({"StatusCode": 200, "Payload": payload}))["Payload"]
            name = state["Next"]
        elif state["Type"] == "Choice":
            name = state["Default"]
            for choice in state["Choices"]:
                variable = choice["Variable"]
                assert variable.startswith("$.")
                if document.get(variable[2:]) is choice["BooleanEquals"]:
                    name = choice["Next"]
                    break
        else:
            raise AssertionError(f"state type {state['Type']} is not interpreted here")
    raise AssertionError("the state machine did not finish")


class _SimulatedBenchmark:
    """Stands in for ``LambdaBenchmark``: same context-manager shape, simulator underneath."""

    instances: ClassVar[list[_SimulatedBenchmark]] = []

    def __init__(self, function_name: str, **options: Any) -> None:
        self.function_name = function_name
        self.options = options
        self.invoker = SimulatorInvoker(PROFILE, seed=len(self.instances))
        self.closed = False
        self.instances.append(self)

    def __enter__(self) -> _SimulatedBenchmark:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.closed = True

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]:
        return self.invoker.invoke(probes)


@pytest.fixture
def simulated_benchmarks(monkeypatch: pytest.MonkeyPatch) -> type[_SimulatedBenchmark]:
    import aws.invokers.lambda_invoker as lambda_invoker

    _SimulatedBenchmark.instances = []
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _SimulatedBenchmark)
    return _SimulatedBenchmark


def _request() -> TuningRequest:
    return TuningRequest(
        function_name="checkout-api",
        region="us-east-1",
        current_memory_mb=1024,
        invocations_per_month=1_000_000,
        max_invocations=400,
    )


def test_a_run_loops_plan_invoke_update_until_done(
    simulated_benchmarks: type[_SimulatedBenchmark],
) -> None:
    output, visited = execute({"request": json.loads(_request().model_dump_json())})

    assert visited[:4] == ["Plan", "InvokeBatch", "Update", "Done"]
    assert visited[-2:] == ["Done", "Finished"]
    rounds = visited.count("InvokeBatch")
    assert rounds >= 2  # it really looped, carrying the state through JSON
    assert visited.count("Plan") == rounds
    assert output["done"] is True
    assert output["state"]["finished"] is True
    assert output["result"]["invocations"] == len(output["state"]["observations"])
    assert output["result"]["invocations"] <= 400
    # One benchmark per batch, each closed again (copies never outlive a step).
    assert len(simulated_benchmarks.instances) == rounds
    assert all(
        b.closed and b.function_name == "checkout-api" for b in simulated_benchmarks.instances
    )
    assert all(b.options["in_place"] is False for b in simulated_benchmarks.instances)


def test_options_given_at_the_start_reach_every_batch(
    simulated_benchmarks: type[_SimulatedBenchmark],
) -> None:
    machine_input = {
        "request": json.loads(_request().model_dump_json()),
        "in_place": True,
        "payload": {"body": "{}"},
    }
    output, _ = execute(machine_input)
    assert output["in_place"] is True
    assert all(b.options["in_place"] is True for b in simulated_benchmarks.instances)


def test_the_state_machine_finds_what_the_in_process_search_finds(
    simulated_benchmarks: type[_SimulatedBenchmark],
) -> None:
    """Step Functions is only a driver: same probes and observations, so the same choice."""
    output, _ = execute({"request": json.loads(_request().model_dump_json())})

    class _SeededPerBatch:
        def __init__(self) -> None:
            self.batches = 0

        def invoke(self, probes: Sequence[Probe]) -> list[Observation]:
            invoker = SimulatorInvoker(PROFILE, seed=self.batches)
            self.batches += 1
            return invoker.invoke(probes)

    in_process = run(start(_request()), _SeededPerBatch())
    assert [o["memory_mb"] for o in output["state"]["observations"]] == [
        o.memory_mb for o in in_process.observations
    ]
    assert output["state"]["stop_reason"] == in_process.stop_reason

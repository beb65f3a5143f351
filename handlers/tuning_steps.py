"""Lambda entry points of the tuning state machine: ``plan``, ``invoke_batch``, ``update``.

Step Functions loops Plan → InvokeBatch → Update until ``done`` is true. Every step takes and
returns one JSON document, so a run can last far longer than one Lambda invocation::

    {"state": {...TuningState...}, "probes": [...], "observations": [...], "done": false,
     "payload": <optional event to benchmark with>, "in_place": false, "result": {...}}

Start an execution with ``{"request": {...TuningRequest...}}`` (plus ``payload`` and
``in_place`` if wanted). ``update`` sets ``done`` and adds ``result`` (a ``TuningResult``)
when the search is over. Benchmark copies live only inside one ``invoke_batch`` call: each
batch creates and deletes its own, so a failed or abandoned execution leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.outcome import result as build_result
from recommendations.tuning.request import TuningRequest, TuningState
from recommendations.tuning.search import finish, invoke_within_budget, start
from recommendations.tuning.search import plan as plan_probes
from recommendations.tuning.search import update as fold

logger = Logger(service="tunebot")

# Stop invoking this long before the step's own timeout, to return the batch in time.
SAFETY_MARGIN_MS = 60_000


class StepInputError(ValueError):
    """The step's input is not a tuning document; the execution fails with this message."""


def _state(event: dict[str, Any]) -> TuningState:
    try:
        if "state" in event:
            return TuningState.model_validate(event["state"])
        if "request" in event:
            return start(TuningRequest.model_validate(event["request"]))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StepInputError(f"Invalid tuning input at {where}: {first['msg']}.") from error
    raise StepInputError("A tuning step needs a 'state' (or, to start, a 'request').")


def _carry(event: dict[str, Any], state: TuningState, **fields: Any) -> dict[str, Any]:
    """The next document: what the caller passed along, with the new state and fields."""
    kept = {key: event[key] for key in ("payload", "in_place") if key in event}
    return {**kept, "state": state.model_dump(mode="json"), **fields}


def plan(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    state = _state(event)
    probes = plan_probes(state)
    logger.info(
        "planned",
        extra={
            "function": state.request.function_name,
            "round": state.rounds,
            "invocations": sum(p.count for p in probes),
        },
    )
    return _carry(event, state, probes=[p.model_dump(mode="json") for p in probes], done=False)


def invoke_batch(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from aws.invokers.lambda_invoker import LambdaBenchmark
    from aws.invokers.payload import payloads_from_document

    state = _state(event)
    probes = [Probe.model_validate(p) for p in event.get("probes", [])]
    observations: list[Observation] = []
    if probes:
        payloads = payloads_from_document(event.get("payload", {}))

        def out_of_time() -> bool:
            if context is None:
                return False
            return int(context.get_remaining_time_in_millis()) < SAFETY_MARGIN_MS

        with LambdaBenchmark(
            state.request.function_name,
            region=state.request.region,
            in_place=bool(event.get("in_place", False)),
            payloads=payloads,
            should_stop=out_of_time,
        ) as benchmark:
            observations, _ = invoke_within_budget(state, probes, benchmark)
    logger.info(
        "invoked",
        extra={"function": state.request.function_name, "invocations": len(observations)},
    )
    return _carry(
        event, state, observations=[o.model_dump(mode="json") for o in observations], done=False
    )


def update(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    state = _state(event)
    observations = [Observation.model_validate(o) for o in event.get("observations", [])]
    if observations:
        state = fold(state, observations)
    if plan_probes(state):
        return _carry(event, state, done=False)
    state = finish(state)
    outcome = build_result(state)
    logger.info(
        "tuning finished",
        extra={
            "function": state.request.function_name,
            "reason": state.stop_reason,
            "invocations": outcome.invocations,
        },
    )
    return _carry(event, state, done=True, result=outcome.model_dump(mode="json"))

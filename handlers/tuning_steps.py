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

from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from recommendations.tuning.observation import Observation, Probe
from recommendations.tuning.outcome import result as build_result
from recommendations.tuning.request import STATE_SCHEMA_VERSION, TuningRequest, TuningState
from recommendations.tuning.search import finish, invoke_within_budget, start
from recommendations.tuning.search import plan as plan_probes
from recommendations.tuning.search import update as fold

logger = Logger(service="tunebot")

# Stop invoking this long before the step's own timeout, to return the batch in time.
SAFETY_MARGIN_MS = 60_000


class StepInputError(ValueError):
    """The step's input is not a tuning document; the execution fails with this message."""


def _invalid(key: str, error: ValidationError) -> StepInputError:
    first = error.errors()[0]
    where = ".".join(str(part) for part in (key, *first["loc"]))
    return StepInputError(f"Invalid tuning input at {where}: {first['msg']}.")


def _document(event: Any) -> dict[str, Any]:
    """The step's input, checked for what every step reads besides the state."""
    if not isinstance(event, dict):
        raise StepInputError(
            "A tuning step takes a JSON object with a 'state' (or, to start, a 'request')."
        )
    if not isinstance(event.get("in_place", False), bool):
        # "false" as a string would otherwise read as true and benchmark the function itself.
        raise StepInputError("Invalid tuning input at in_place: it must be true or false.")
    return event


def _state(event: Any) -> TuningState:
    document = _document(event)
    try:
        if "state" in document:
            raw = document["state"]
            version = (
                raw.get("schema_version", STATE_SCHEMA_VERSION) if isinstance(raw, dict) else 0
            )
            if isinstance(raw, dict) and version != STATE_SCHEMA_VERSION:
                raise StepInputError(
                    "The tuning state was saved by another version of tunebot; start the run again."
                )
            state = TuningState.model_validate(raw)
            if state.rounds < 0:
                raise StepInputError(
                    "Invalid tuning input at state.rounds: it must not be negative."
                )
            return state
        if "request" in document:
            try:
                return start(TuningRequest.model_validate(document["request"]))
            except ValidationError as error:
                raise _invalid("request", error) from error
    except ValidationError as error:
        raise _invalid("state", error) from error
    raise StepInputError("A tuning step needs a 'state' (or, to start, a 'request').")


M = TypeVar("M", Probe, Observation)


def _items(event: dict[str, Any], key: str, model: type[M]) -> list[M]:
    """``probes`` or ``observations``: a list of their models, else one sentence."""
    raw = event.get(key, [])
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise StepInputError(f"Invalid tuning input at {key}: it must be a list.")
    items = []
    for index, item in enumerate(raw):
        try:
            items.append(model.model_validate(item))
        except ValidationError as error:
            raise _invalid(f"{key}.{index}", error) from error
    return items


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
    from aws.invokers.payload import PayloadError, payloads_from_document

    state = _state(event)
    probes = _items(event, "probes", Probe)
    for index, probe in enumerate(probes):
        if probe.architecture not in state.request.architectures:
            raise StepInputError(
                f"Invalid tuning input at probes.{index}.architecture: {probe.architecture.value} "
                "is not one of the request's architectures."
            )
    observations: list[Observation] = []
    if probes:
        try:
            payloads = payloads_from_document(event.get("payload", {}))
        except PayloadError as error:
            raise StepInputError(str(error)) from error

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
    observations = _items(event, "observations", Observation)
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

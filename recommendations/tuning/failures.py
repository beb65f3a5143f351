"""Failures as data: which failed invocations still count as measurements.

Out of memory and timeouts are limits the search reasons about (every memory at or below
one that hit them is infeasible); other errors exclude the memory where they happened, and
an architecture where every invocation failed is ruled out. An error whose type the request
lists in ``allowed_errors`` (like Power Tuning's ``allowedExceptions``: a payload that is
expected to be rejected, say) is not a failure: its duration is measured like any other.
"""

from __future__ import annotations

from recommendations.tuning.observation import ErrorKind, Observation
from recommendations.tuning.request import TuningRequest


def allow(observation: Observation, request: TuningRequest) -> Observation:
    """The observation as the search sees it: an allowed error type is a measurement."""
    if (
        observation.error is ErrorKind.ERROR
        and observation.error_type is not None
        and observation.error_type in request.allowed_errors
    ):
        return observation.model_copy(update={"error": None})
    return observation


def failure_counts(observations: list[Observation]) -> dict[str, int]:
    """Failures by kind (``out_of_memory``, ``timeout``, ``error: TYPE``), allowed ones apart."""
    counts: dict[str, int] = {}
    for o in observations:
        if o.error is not None:
            key = o.error.value
            if o.error is ErrorKind.ERROR and o.error_type:
                key = f"error: {o.error_type}"
        elif o.allowed_error:
            key = f"allowed: {o.error_type}"
        else:
            continue
        counts[key] = counts.get(key, 0) + 1
    return counts

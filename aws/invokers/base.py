"""What every invoker does: run probes, return one observation per invocation made."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aws.logs.report_parser import ReportRecord
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import ErrorKind, Observation, Probe


class Invoker(Protocol):
    """Runs each probe's invocations in order; stops a probe at its first failed invocation.

    A failing configuration tells the search all it needs (it is infeasible), so invoking it
    again only spends money.
    """

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]: ...


def error_kind(record: ReportRecord, function_error: str | None = None) -> ErrorKind | None:
    """How an invocation failed, from its REPORT record and the Invoke response's FunctionError."""
    if record.timed_out:
        return ErrorKind.TIMEOUT
    failed = function_error is not None or record.status in ("error", "failure")
    if record.error_type == "Runtime.OutOfMemory" or (failed and record.out_of_memory):
        return ErrorKind.OUT_OF_MEMORY
    if failed:
        return ErrorKind.ERROR
    return None


def observation_from_report(
    record: ReportRecord,
    architecture: Architecture,
    function_error: str | None = None,
    error_type: str | None = None,
) -> Observation:
    """``error_type``: the ``errorType`` of the function's error response, when it failed."""
    kind = error_kind(record, function_error)
    return Observation(
        memory_mb=record.memory_size_mb,
        architecture=architecture,
        duration_ms=record.duration_ms,
        billed_duration_ms=record.billed_duration_ms,
        init_duration_ms=record.init_duration_ms,
        max_memory_used_mb=record.max_memory_used_mb,
        error=kind,
        error_type=(error_type or record.error_type) if kind is not None else None,
    )

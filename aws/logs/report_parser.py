"""Parse Lambda ``REPORT`` records, the one line Lambda writes after every invocation.

Two formats exist, chosen by the function's ``LoggingConfig.LogFormat``:

* text: ``REPORT RequestId: … Duration: 15.74 ms Billed Duration: 16 ms Memory Size: 128 MB
  Max Memory Used: 56 MB Init Duration: 130.49 ms`` — fields separated by spaces or tabs,
  optionally followed by ``Restore Duration`` / ``Billed Restore Duration`` (SnapStart),
  ``Status: timeout|error`` and ``Error Type: Runtime.OutOfMemory`` on newer runtimes;
* JSON: ``{"type": "platform.report", "record": {"requestId": …, "metrics": {…},
  "status": "success|error|failure|timeout", "errorType": …, "tracing": …, "spans": […]}}``.

Older runtimes do not write ``Status``; a timeout shows only as a separate
``<requestId> Task timed out after 3.00 seconds`` line, which :func:`parse_report_log` joins to
the matching record. Pure: no AWS calls, usable on ``Invoke`` log tails and on log events alike.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from recommendations.error_types import HTTP_429, RATE_EXCEEDED, TIMED_OUT

TIMEOUT = "timeout"
OUT_OF_MEMORY_ERROR = "Runtime.OutOfMemory"
_FAILED_STATUSES = frozenset({"error", "failure", TIMEOUT})

# Longer labels first so "Billed Restore Duration" never reads as "Restore Duration" or
# "Duration"; finditer scans left to right, so each label is consumed with its value.
_FIELD = re.compile(
    r"(?<![A-Za-z])(?P<label>RequestId|Billed Restore Duration|Restore Duration|Billed Duration"
    r"|Init Duration|Duration|Memory Size|Max Memory Used|Status|Error Type):\s*(?P<value>\S+)"
)
_TIMED_OUT = re.compile(
    r"(?:(?P<request_id>[0-9a-fA-F]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-"
    r"[0-9A-Za-z]{12})\s+)?Task timed out after\s+(?P<seconds>[0-9.]+)\s+seconds"
)


class ReportRecord(BaseModel):
    """One invocation as Lambda reported it. Durations in milliseconds, memory in MB."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str
    duration_ms: float
    billed_duration_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    restore_duration_ms: float | None = None
    billed_restore_duration_ms: int | None = None
    # "success", "error", "failure" or "timeout"; None when the line does not say (old runtimes).
    status: str | None = None
    error_type: str | None = None

    @property
    def is_cold(self) -> bool:
        """A new execution environment: an Init Duration, or a SnapStart restore."""
        return self.init_duration_ms is not None or self.restore_duration_ms is not None

    @property
    def timed_out(self) -> bool:
        return self.status == TIMEOUT

    @property
    def out_of_memory(self) -> bool:
        """Lambda says so, or a failed (or unlabelled) invocation used all of its memory.

        Before ``Error Type`` existed an out-of-memory kill showed only as Max Memory Used
        reaching Memory Size, so that is the evidence for lines without a status.
        """
        if self.error_type == OUT_OF_MEMORY_ERROR:
            return True
        exhausted = self.max_memory_used_mb >= self.memory_size_mb
        return exhausted and (self.status is None or self.status in _FAILED_STATUSES)

    @property
    def init_billed(self) -> bool | None:
        """Whether the billed duration includes init (zip functions since August 2025).

        None for warm invocations, where there is nothing to tell.
        """
        if self.init_duration_ms is None:
            return None
        return self.billed_duration_ms >= math.ceil(self.duration_ms + self.init_duration_ms)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _parse_text(line: str) -> ReportRecord | None:
    start = line.find("REPORT RequestId:")
    if start < 0:
        return None
    fields: dict[str, str] = {}
    for match in _FIELD.finditer(line, start):
        fields.setdefault(match["label"], match["value"])
    numbers = {label: _number(value) for label, value in fields.items()}
    required = ("Duration", "Billed Duration", "Memory Size", "Max Memory Used")
    if "RequestId" not in fields or any(numbers.get(label) is None for label in required):
        return None

    def optional_float(label: str) -> float | None:
        return numbers.get(label)

    billed_restore = numbers.get("Billed Restore Duration")
    status = fields.get("Status")
    return ReportRecord(
        request_id=fields["RequestId"],
        duration_ms=float(numbers["Duration"] or 0.0),
        billed_duration_ms=int(numbers["Billed Duration"] or 0),
        memory_size_mb=int(numbers["Memory Size"] or 0),
        max_memory_used_mb=int(numbers["Max Memory Used"] or 0),
        init_duration_ms=optional_float("Init Duration"),
        restore_duration_ms=optional_float("Restore Duration"),
        billed_restore_duration_ms=None if billed_restore is None else int(billed_restore),
        status=status.lower() if status else None,
        error_type=fields.get("Error Type"),
    )


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _parse_json(line: str) -> ReportRecord | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("type") != "platform.report":
        return None
    record = event.get("record")
    if not isinstance(record, dict):
        return None
    metrics = record.get("metrics")
    request_id = record.get("requestId")
    if not isinstance(metrics, dict) or not isinstance(request_id, str):
        return None
    duration = _as_float(metrics.get("durationMs"))
    billed = _as_float(metrics.get("billedDurationMs"))
    memory = _as_float(metrics.get("memorySizeMB"))
    used = _as_float(metrics.get("maxMemoryUsedMB"))
    if duration is None or billed is None or memory is None or used is None:
        return None
    billed_restore = _as_float(metrics.get("billedRestoreDurationMs"))
    status = record.get("status")
    error_type = record.get("errorType")
    return ReportRecord(
        request_id=request_id,
        duration_ms=duration,
        billed_duration_ms=int(billed),
        memory_size_mb=int(memory),
        max_memory_used_mb=int(used),
        init_duration_ms=_as_float(metrics.get("initDurationMs")),
        restore_duration_ms=_as_float(metrics.get("restoreDurationMs")),
        billed_restore_duration_ms=None if billed_restore is None else int(billed_restore),
        status=status.lower() if isinstance(status, str) else None,
        error_type=error_type if isinstance(error_type, str) else None,
    )


def parse_report_line(line: str) -> ReportRecord | None:
    """A text ``REPORT`` line or a JSON ``platform.report`` line; None for anything else."""
    stripped = line.strip()
    if not stripped:
        return None
    if stripped.startswith("{"):
        return _parse_json(stripped)
    return _parse_text(stripped)


def timed_out_request_id(line: str) -> str | None:
    """The request id of a ``Task timed out after N seconds`` line ("" when it has none).

    None when the line is not a timeout message.
    """
    match = _TIMED_OUT.search(line)
    if match is None:
        return None
    return match["request_id"] or ""


def parse_report_log(text: str) -> list[ReportRecord]:
    """Every REPORT record in ``text`` (many lines, e.g. an Invoke ``LogResult`` tail).

    A ``Task timed out`` line marks its invocation's record as timed out when the record
    itself has no status; without a request id it applies to the next REPORT record.
    """
    records: list[ReportRecord] = []
    timed_out_ids: set[str] = set()
    pending_anonymous_timeout = False
    for line in text.splitlines():
        timeout_id = timed_out_request_id(line)
        if timeout_id is not None:
            if timeout_id:
                timed_out_ids.add(timeout_id)
            else:
                pending_anonymous_timeout = True
            continue
        record = parse_report_line(line)
        if record is None:
            continue
        if pending_anonymous_timeout and record.status is None:
            record = record.model_copy(update={"status": TIMEOUT})
        pending_anonymous_timeout = False
        records.append(record)
    if not timed_out_ids:
        return records
    return [
        record.model_copy(update={"status": TIMEOUT})
        if record.request_id in timed_out_ids and record.status is None
        else record
        for record in records
    ]


# Error types in log lines other than REPORT records (what ERR-001 and ERR-002 read). The
# Logs Insights query in ``aws.logs.error_types`` captures the same groups in the same order.
_PLATFORM_JSON = re.compile(r'"type"\s*:\s*"platform\.')
_AWS_ERROR_CODE = re.compile(r"An error occurred \((?P<name>[A-Za-z0-9_.]+)\)")
_HTTP_429 = re.compile(r"429 Client Error|Too Many Requests|[Ss]tatus ?[Cc]ode\W{0,3}429\b")
_JSON_ERROR_TYPE = re.compile(r'"errorType"\s*:\s*"(?P<name>[^"]+)"')
_PYTHON_ERROR = re.compile(r"\[ERROR\]\s+(?P<name>[A-Za-z_][\w.]*):")
_RATE_EXCEEDED = re.compile(r"Rate exceeded")
_TASK_TIMED_OUT = re.compile(r"Task timed out after")


def normalise_error_type(raw: str) -> str:
    """One name per error type: any way of saying HTTP 429 is ``HTTP 429``."""
    text = raw.strip()
    if _HTTP_429.search(text):
        return HTTP_429
    return text


def error_type_of_line(line: str) -> str | None:
    """The error type a log line names, or None.

    An AWS SDK error code (``An error occurred (ThrottlingException)``, which Python prints
    inside a ``ClientError``) wins over the exception class; then HTTP 429, a JSON
    ``errorType`` (Node.js ``Invoke Error`` lines, JSON-format logs), a Python ``[ERROR]
    Name:`` line, ``Rate exceeded`` and ``Task timed out``. Lambda's own ``platform.*``
    JSON records are skipped: they repeat the function's error once more.
    """
    if _PLATFORM_JSON.search(line):
        return None
    match = _AWS_ERROR_CODE.search(line)
    if match:
        return match["name"]
    if _HTTP_429.search(line):
        return HTTP_429
    for pattern in (_JSON_ERROR_TYPE, _PYTHON_ERROR):
        match = pattern.search(line)
        if match:
            return match["name"]
    if _RATE_EXCEEDED.search(line):
        return RATE_EXCEEDED
    if _TASK_TIMED_OUT.search(line):
        return TIMED_OUT
    return None


def count_error_types(lines: Iterable[str]) -> dict[str, int]:
    """How many lines name each error type."""
    counts: dict[str, int] = {}
    for line in lines:
        name = error_type_of_line(line)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts

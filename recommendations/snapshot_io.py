"""Turning snapshot text into a :class:`FleetSnapshot`, with errors a person can act on.

Reading the file is the caller's job (this package does no I/O); ``source`` is only used to
name the document in messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from recommendations.errors import SnapshotError
from recommendations.snapshot import FleetSnapshot

_MAX_SHOWN_INPUT = 60


def field_path(location: Sequence[int | str]) -> str:
    """``("functions", 3, "memory_mb")`` → ``functions[3].memory_mb``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    if len(text) > _MAX_SHOWN_INPUT:
        text = text[: _MAX_SHOWN_INPUT - 1] + "…"
    return text


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return (
        "a number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else "a boolean"
    )


def _describe_validation_error(source: str, error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    first = problems[0]
    message = str(first["msg"])
    if first["type"] == "missing":
        sentence = f"{source}: {field_path(first['loc'])} is missing"
    elif first["type"] == "extra_forbidden":
        sentence = f"{source}: {field_path(first['loc'])} is not a snapshot field"
    elif first["type"] == "value_error":
        # Our own validators' messages are complete sentences about the whole object.
        message = message.removeprefix("Value error, ")
        sentence = f"{source}: {field_path(first['loc'])}: {message}"
    else:
        message = message[0].lower() + message[1:] if message else message
        sentence = f"{source}: {field_path(first['loc'])}: {message}"
        if not isinstance(first["input"], dict | list):
            sentence += f" (got {_shown(first['input'])})"
    if len(problems) > 1:
        others = len(problems) - 1
        sentence += f", and {others} more problem{'s' if others > 1 else ''}"
    return sentence + "."


def parse_fleet_snapshot(text: str, source: str = "snapshot") -> FleetSnapshot:
    """Parse a saved snapshot (JSON text); raise :class:`SnapshotError` with a field path."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(
            f"{source} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from error
    if not isinstance(data, dict):
        raise SnapshotError(
            f"{source} must hold a JSON object with a 'functions' list, not {_json_kind(data)}."
        )
    try:
        return FleetSnapshot.model_validate(data)
    except ValidationError as error:
        raise SnapshotError(_describe_validation_error(source, error)) from error


def dump_fleet_snapshot(fleet: FleetSnapshot) -> str:
    """The snapshot file format: indented JSON without unset optional noise."""
    return fleet.model_dump_json(indent=2, exclude_none=True) + "\n"

"""What the benchmark sends: one event, or a weighted list of events, read from a file.

A file holds either any JSON event, or a list whose every item is ``{"payload": …,
"weight": N}`` (Power Tuning's weighted-payload shape). Several files can be given with
weights instead (``--payload a.json:3 --payload b.json:1``): each file is one event. Weighted
events are interleaved deterministically in proportion to their weights (smooth weighted
round robin), so even a short probe sees the mix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws.errors import AwsError


class PayloadError(AwsError):
    """The payload file is missing or malformed."""


class Payloads:
    def __init__(self, events: list[tuple[bytes, float]]) -> None:
        if not events:
            raise PayloadError("At least one payload is needed.")
        self._events = events
        self._credit = [0.0] * len(events)
        self._total = sum(weight for _, weight in events)

    @classmethod
    def single(cls, event: Any = None) -> Payloads:
        return cls([(json.dumps({} if event is None else event).encode(), 1.0)])

    def next(self) -> bytes:
        for index, (_, weight) in enumerate(self._events):
            self._credit[index] += weight
        chosen = max(range(len(self._events)), key=lambda i: self._credit[i])
        self._credit[chosen] -= self._total
        return self._events[chosen][0]


def _is_weighted(document: Any) -> bool:
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(item, dict) and set(item) == {"payload", "weight"} for item in document)
    )


def payloads_from_document(document: Any) -> Payloads:
    if not _is_weighted(document):
        return Payloads.single(document)
    events: list[tuple[bytes, float]] = []
    for position, item in enumerate(document, start=1):
        weight = item["weight"]
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            raise PayloadError(f"Payload {position} needs a positive number as its weight.")
        events.append((json.dumps(item["payload"]).encode(), float(weight)))
    return Payloads(events)


def load_payloads(path: Path | None) -> Payloads:
    """The payloads in ``path``; an empty event ``{}`` when no file is given."""
    if path is None:
        return Payloads.single()
    return payloads_from_document(_read(path))


def parse_payload_spec(text: str) -> tuple[Path, float]:
    """``FILE`` or ``FILE:WEIGHT`` (a positive number after the last colon)."""
    name, colon, weight_text = text.rpartition(":")
    if not colon or not name:
        return Path(text), 1.0
    try:
        weight = float(weight_text)
    except ValueError:
        return Path(text), 1.0  # a colon that is part of the file name
    if not weight > 0 or weight == float("inf"):
        raise PayloadError(f"The weight of payload {name} must be a positive number.")
    return Path(name), weight


def load_weighted_payloads(specs: list[tuple[Path, float]]) -> Payloads:
    """One file: as ``load_payloads``. Several: each file is one event with its weight."""
    if not specs:
        return Payloads.single()
    if len(specs) == 1 and specs[0][1] == 1.0:
        return load_payloads(specs[0][0])
    events: list[tuple[bytes, float]] = []
    for path, weight in specs:
        document = _read(path)
        if _is_weighted(document):
            raise PayloadError(
                f"Payload file {path} is a weighted list; give weighted files one event each."
            )
        events.append((json.dumps(document).encode(), weight))
    return Payloads(events)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PayloadError(f"Payload file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PayloadError(f"Payload file {path} cannot be read: {error}.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PayloadError(
            f"Payload file {path} is not valid JSON (line {error.lineno})."
        ) from None
    return document

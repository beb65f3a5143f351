"""What the benchmark sends: one event, or a weighted list of events, read from a file.

A file holds either any JSON event, or a list whose every item is ``{"payload": …,
"weight": N}`` (Power Tuning's weighted-payload shape). Weighted events are interleaved
deterministically in proportion to their weights (smooth weighted round robin), so even a
short probe sees the mix.
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
    return payloads_from_document(document)

"""Error types read from log lines: which of them say a downstream service throttled the
function, and the few worth showing."""

from __future__ import annotations

from collections.abc import Mapping

from recommendations.snapshot import ErrorTypeCount

# How many of the most frequent error types a snapshot keeps (throttling types are always kept).
TOP_ERROR_TYPES = 5
TIMED_OUT = "Task timed out"
HTTP_429 = "HTTP 429"
RATE_EXCEEDED = "Rate exceeded"

# AWS error codes and messages that mean "slow down": DynamoDB, Kinesis, most AWS APIs,
# S3 (SlowDown), EC2 (RequestLimitExceeded), Lambda's own Invoke (TooManyRequestsException),
# and any HTTP API answering 429.
THROTTLING_ERROR_TYPES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "LimitExceededException",
        RATE_EXCEEDED,
        HTTP_429,
    }
)


def is_downstream_throttling(name: str) -> bool:
    """True for an error type that means a service the function called throttled it."""
    return name in THROTTLING_ERROR_TYPES or name.rsplit(".", 1)[-1] in THROTTLING_ERROR_TYPES


def top_error_types(
    counts: Mapping[str, int], limit: int = TOP_ERROR_TYPES
) -> tuple[ErrorTypeCount, ...]:
    """The ``limit`` most frequent types (ties by name), then every throttling type not among
    them: a retry storm must not hide behind five louder errors."""
    ranked = sorted(
        ((name, count) for name, count in counts.items() if count > 0),
        key=lambda item: (-item[1], item[0]),
    )
    kept = ranked[:limit] + [item for item in ranked[limit:] if is_downstream_throttling(item[0])]
    return tuple(ErrorTypeCount(name=name, count=count) for name, count in kept)

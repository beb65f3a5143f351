"""The state store's errors; its records are :mod:`service.records` (see ``aws/store.py``)."""

from __future__ import annotations

from aws.errors import AwsError
from service.errors import ClaimLost, StoreFailed
from service.records import (
    AlertThread,
    AlertThreadClaim,
    Approval,
    AuditAction,
    AuditRecord,
    AuditResult,
    ChangeRecord,
    ChangeStatus,
    Claim,
    ClaimResult,
    ClaimStatus,
    Dismissal,
    StoredRecommendation,
    TableStatus,
)

__all__ = [
    "AlertThread",
    "AlertThreadClaim",
    "Approval",
    "AuditAction",
    "AuditRecord",
    "AuditResult",
    "ChangeRecord",
    "ChangeStatus",
    "Claim",
    "ClaimLostError",
    "ClaimResult",
    "ClaimStatus",
    "Dismissal",
    "StoreError",
    "StoreNotConfiguredError",
    "StoredRecommendation",
    "TableStatus",
]


class StoreError(AwsError, StoreFailed):
    """The store could not be read or written."""


class StoreNotConfiguredError(StoreError):
    """``TUNEBOT_TABLE`` is not set."""


class ClaimLostError(StoreError, ClaimLost):
    """The claim is no longer held by this attempt (its lease ran out and another took it)."""

"""The values the state store reads and writes, and its errors (see ``aws/store.py``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aws.errors import AwsError
from recommendations.snapshot import Frozen
from service.errors import ClaimLost, StoreFailed

# The values the change use case shares with the store live in ``service``; re-exported here
# so ``aws.store`` keeps offering them.
from service.records import (
    AuditAction,
    AuditRecord,
    AuditResult,
    ChangeRecord,
    ChangeStatus,
    Claim,
    ClaimResult,
    ClaimStatus,
    StoredRecommendation,
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


class Approval(Frozen):
    recommendation_id: str
    user: str
    approved_at: datetime


class Dismissal(Frozen):
    function_name: str
    rule_id: str
    until: datetime
    actor: str
    dismissed_at: datetime
    reason: str = ""


class AlertThread(Frozen):
    key: str
    state: str
    channel: str | None = None
    ts: str | None = None
    created_at: datetime
    updated_at: datetime


class AlertThreadClaim(Frozen):
    """``created``: this caller created the thread record; else ``thread`` already existed."""

    created: bool
    thread: AlertThread


class TableStatus(StrEnum):
    CREATED = "created"
    EXISTS = "exists"

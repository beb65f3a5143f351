"""The records tunebot keeps and passes between its layers, each defined once.

The store (``aws/store.py``) reads and writes these, the service layer decides with them and the
bot renders them: nobody copies them field by field.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from recommendations.changes import Change
from recommendations.recommendation import Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot

# People are Slack users: the change history records them as ``slack:<user id>`` actors.
ACTOR_PREFIX = "slack:"


def user_of(actor: str) -> str:
    """The Slack user id of a ``slack:`` actor; any other actor (``tunebot``, ``cli:…``) as is."""
    return actor[len(ACTOR_PREFIX) :] if actor.startswith(ACTOR_PREFIX) else actor


class StoredRecommendation(Frozen):
    """A recommendation with the function configuration it was computed from."""

    recommendation: Recommendation
    function: FunctionSnapshot | None = None
    requested_by: str | None = None
    channel: str | None = None
    message_ts: str | None = None
    stored_at: datetime
    expires_at: datetime
    approvers: tuple[str, ...] = ()
    # Which application the approvals count towards; applying or undoing starts a new one.
    approval_round: int = 0


class Approval(Frozen):
    recommendation_id: str
    user: str
    approved_at: datetime


class ClaimStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    APPLIED = "applied"
    STALE = "stale"
    FAILED = "failed"
    # The applied change was undone; the same key may be claimed again.
    RELEASED = "released"


class Claim(Frozen):
    key: str
    change_id: str
    actor: str
    status: ClaimStatus
    claimed_at: datetime
    lease_until: datetime
    message: str = ""


class ClaimResult(Frozen):
    """``acquired``: this caller holds the claim and may act; else ``claim`` is the holder's."""

    acquired: bool
    claim: Claim
    # When acquired: the claim this one replaced (a failed, stale, released or abandoned
    # attempt), whose intent may still need resolving.
    previous: Claim | None = None


class ChangeStatus(StrEnum):
    # Written before the AWS call (write-ahead): AWS may or may not have made the change yet.
    INTENDED = "intended"
    APPLIED = "applied"
    UNDONE = "undone"
    # The attempt ended without changing anything (stale, failed, or found not in effect).
    FAILED = "failed"


class ChangeRecord(Frozen):
    """A change tunebot applied or set out to apply (an undo is one too, with ``reverts``).

    Written as ``intended`` before the AWS call, then finished as ``applied`` or ``failed``."""

    change_id: str
    recommendation_id: str | None = None
    function_name: str
    function_arn: str | None = None
    change: Change
    description: str
    actor: str
    approvers: tuple[str, ...] = ()
    applied_at: datetime
    status: ChangeStatus = ChangeStatus.APPLIED
    request_ids: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    reverts: str | None = None
    # The function's RevisionId around the change, when it moves it (memory, timeout, arch).
    revision_before: str | None = None
    revision_after: str | None = None
    undone_by: str | None = None
    undone_at: datetime | None = None
    undo_change_id: str | None = None

    # What the bot shows: actors as Slack user ids (mentions are built from these).
    @property
    def applied_by(self) -> str:
        return user_of(self.actor)

    @property
    def undone_by_user(self) -> str | None:
        return user_of(self.undone_by) if self.undone_by else None

    @property
    def approver_users(self) -> tuple[str, ...]:
        return tuple(user_of(user) for user in self.approvers)

    @property
    def is_undo(self) -> bool:
        return self.reverts is not None

    @property
    def in_force(self) -> bool:
        """An applied change that was not undone (an undo record is never "in force")."""
        return self.status is ChangeStatus.APPLIED and not self.is_undo


class AuditAction(StrEnum):
    APPLY = "apply"
    UNDO = "undo"


class AuditResult(StrEnum):
    APPLIED = "applied"
    STALE = "stale"
    FAILED = "failed"


class AuditRecord(Frozen):
    """One attempt to change something, whatever came of it. Written once, never updated."""

    audit_id: str
    at: datetime
    actor: str
    action: AuditAction
    function_name: str
    recommendation_id: str | None = None
    change_id: str | None = None
    description: str
    before: Any = None
    after: Any = None
    result: AuditResult
    message: str = ""
    request_ids: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()


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


class ApplyOutcome(Frozen):
    """What an applier did. ``change`` is the change as applied: identical to the requested
    one except where the applier resolved a value (the ARN of a queue it created)."""

    change: Change
    request_ids: tuple[str, ...] = ()
    # The function's RevisionId just before and after the update (function-level changes).
    revision_before: str | None = None
    revision_id: str | None = None
    notes: tuple[str, ...] = ()


class Verdict(StrEnum):
    # The resource reads the change's ``after``: the attempt took effect.
    TOOK_EFFECT = "took_effect"
    # It reads ``before``: nothing was changed.
    NO_EFFECT = "no_effect"
    # Neither: someone else changed it since, or tunebot resolved a value (a created queue).
    NEITHER = "neither"


class ChangeObservation(Frozen):
    """What a change's target reads now, compared with the change's ``before`` and ``after``."""

    verdict: Verdict
    value: Any = None

"""tunebot's state and audit store: one DynamoDB table (``TUNEBOT_TABLE``), single-table design.

Key design (documented for operators in ``docs/state.md``):

=================  ======================  ======================  ===================  =====
item               PK                      SK                      GSI1 (by function)   TTL
=================  ======================  ======================  ===================  =====
recommendation     ``REC#<rec id>``        ``REC``                 ``FN#<name>`` /      14 d
                                                                   ``REC#<stored at>``
approval           ``REC#<rec id>``        ``APPROVAL#<n>#<user>`` -                    14 d
claim              ``CLAIM#<key>``         ``CLAIM``               -                    30 d
applied change     ``CHANGE#<change id>``  ``CHANGE``              ``FN#<name>`` /      none
                                                                   ``CHANGE#<at>#<id>``
audit record       ``AUDIT#<yyyy-mm>``     ``<at>#<audit id>``     ``FN#<name>`` /      none
                                                                   ``AUDIT#<at>#<id>``
dismissal          ``DISMISS#<name>``      ``RULE#<rule id>``      -                    until
alert thread       ``ALERT#<dedup key>``   ``THREAD``              -                    30 d
=================  ======================  ======================  ===================  =====

GSI2 is sparse and lists things across functions, newest first: applied changes under
``CHANGES#<yyyy-mm>`` and recommendations waiting for more approvals under ``PENDING``.

Every write that must not be repeated is conditional: approvals per user, claims, change
records and audit records (``attribute_not_exists``), so retries and double clicks cannot
duplicate or overwrite them. Audit records have no update or delete method here at all.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from aws.error_codes import error_code, translate
from aws.errors import ResourceNotFoundError
from aws.store_codec import deserialize_item, serialize_item, serialize_value
from aws.store_models import (
    AlertThread,
    AlertThreadClaim,
    Approval,
    AuditAction,
    AuditRecord,
    AuditResult,
    ChangeRecord,
    ChangeStatus,
    Claim,
    ClaimLostError,
    ClaimResult,
    ClaimStatus,
    Dismissal,
    StoredRecommendation,
    StoreError,
    StoreNotConfiguredError,
    TableStatus,
)
from aws.store_tables import (
    DEFAULT_IDEMPOTENCY_TABLE,
    IDEMPOTENCY_TABLE_ENV,
    INIT_IAM_ACTIONS,
    TABLE_ENV,
    TTL_ATTRIBUTE,
    create_tables,
)
from recommendations.recommendation import Recommendation
from recommendations.snapshot import FunctionSnapshot

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_dynamodb import DynamoDBClient

# Callers import everything store-related from here.
__all__ = [
    "DEFAULT_IDEMPOTENCY_TABLE",
    "IDEMPOTENCY_TABLE_ENV",
    "INIT_IAM_ACTIONS",
    "TABLE_ENV",
    "TTL_ATTRIBUTE",
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
    "StateStore",
    "StoreError",
    "StoreNotConfiguredError",
    "StoredRecommendation",
    "TableStatus",
    "create_tables",
    "function_name_of",
    "new_change_id",
]

logger = logging.getLogger(__name__)

RECOMMENDATION_TTL = timedelta(days=14)
CLAIM_TTL = timedelta(days=30)
ALERT_THREAD_TTL = timedelta(days=30)
# Longer than the longest Lambda run (15 min): a claim whose holder died can be taken over.
CLAIM_LEASE = timedelta(minutes=16)
# How many monthly audit partitions ``recent_audit`` walks back through at most.
AUDIT_MONTHS_BACK = 24

# What the running bot needs on its table (and its indexes). No DeleteItem: audit records are
# append-only, and expiry is DynamoDB's TTL.
IAM_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
)


# ----------------------------------------------------------------------------- helpers


def _iso(moment: datetime) -> str:
    """Sortable UTC timestamp; lexical order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _previous_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def function_name_of(function: str) -> str:
    """``arn:aws:lambda:r:a:function:name[:qualifier]`` or a plain name -> the name."""
    if function.startswith("arn:"):
        parts = function.split(":")
        if len(parts) >= 7:
            return parts[6]
    return function


def _approval_prefix(round_: int) -> str:
    """The sort-key prefix of one approval round's approvals (``APPROVAL#<round>#<user>``)."""
    return f"APPROVAL#{round_}#"


def new_change_id() -> str:
    return "chg-" + uuid.uuid4().hex[:16]


def _new_audit_id() -> str:
    return "aud-" + uuid.uuid4().hex[:16]


def _utc_now() -> datetime:
    return datetime.now(UTC)


# Seconds to wait before trying again to record where a posted alert message is.
ALERT_THREAD_TS_RETRIES = (0.1, 0.4)


class StateStore:
    """Typed access to the tunebot table. Methods raise :class:`StoreError` subclasses."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not table_name:
            raise StoreNotConfiguredError(
                f"{TABLE_ENV} is not set; set it to the tunebot DynamoDB table name "
                "(create one with `tunebot store init`)."
            )
        self.table_name = table_name
        self._client = client
        self._clock = clock
        self._sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_environment(cls, client: DynamoDBClient | None = None) -> StateStore:
        return cls(os.environ.get(TABLE_ENV, ""), client)

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    def now(self) -> datetime:
        return self._clock()

    # ------------------------------------------------------------------ low level

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self.client, operation)(
                TableName=self.table_name, **kwargs
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise
            raise self._translate(error) from error
        except BotoCoreError as error:
            raise self._translate(error) from error
        return response

    def _translate(self, error: Exception) -> StoreError:
        """A StoreError that keeps whether the cause is worth retrying (throttling, DynamoDB
        failing, no connection) or not (no table, access denied, a rejected request)."""
        translated = translate(error, f"use the tunebot table {self.table_name}")
        if isinstance(translated, ResourceNotFoundError):
            return StoreError(
                f"The DynamoDB table {self.table_name} does not exist; "
                "create it with `tunebot store init`.",
                retryable=False,
                code=translated.code,
            )
        return StoreError(str(translated), retryable=translated.retryable, code=translated.code)

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._call(
            "get_item", Key=serialize_item({"PK": pk, "SK": sk}), ConsistentRead=True
        )
        item = response.get("Item")
        return deserialize_item(item) if item else None

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put only if no item has this key; False when one already exists."""
        try:
            self._call(
                "put_item",
                Item=serialize_item(item),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError:  # only ConditionalCheckFailed reaches here
            return False
        return True

    def _update(
        self,
        key: tuple[str, str],
        expression: str,
        *,
        condition: str,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
        returns: str = "NONE",
    ) -> dict[str, Any] | None:
        """Update the item ``key`` (PK, SK) if ``condition`` holds; None when it does not.

        Every update here is conditional: that is how the store keeps state transitions
        (applied -> undone, held -> finished) to one winner.
        """
        kwargs: dict[str, Any] = {}
        if values:
            kwargs["ExpressionAttributeValues"] = {
                name: serialize_value(value) for name, value in values.items()
            }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            return self._call(
                "update_item",
                Key=serialize_item({"PK": key[0], "SK": key[1]}),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ReturnValues=returns,
                **kwargs,
            )
        except ClientError:  # only ConditionalCheckFailed reaches here
            return None

    def _query(
        self,
        key_condition: str,
        values: dict[str, Any],
        *,
        index: str | None = None,
        newest_first: bool = True,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": {name: serialize_value(v) for name, v in values.items()},
            "ScanIndexForward": not newest_first,
        }
        if index:
            kwargs["IndexName"] = index
        returned = 0
        while True:
            response = self._call("query", **kwargs)
            for item in response.get("Items", []):
                yield deserialize_item(item)
                returned += 1
                if limit is not None and returned >= limit:
                    return
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # ------------------------------------------------------------------ recommendations

    def put_recommendation(
        self,
        recommendation: Recommendation,
        function: FunctionSnapshot | None = None,
        *,
        requested_by: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        ttl: timedelta = RECOMMENDATION_TTL,
    ) -> StoredRecommendation:
        """Store (or refresh) a recommendation; the same id always means the same change.

        Refreshing an unexpired one keeps its approvals, its card and whether it was applied
        (values given here win over the stored ones); an expired one starts afresh.
        """
        now = self.now()
        previous = self._get(f"REC#{recommendation.id}", "REC")
        carried: dict[str, Any] = {}
        if previous is not None and int(previous[TTL_ATTRIBUTE]) > _epoch(now):
            carried = {
                name: previous[name]
                for name in (
                    "function",
                    "requested_by",
                    "channel",
                    "message_ts",
                    "approvers",
                    "approval_round",
                    "applied_change",
                    "GSI2PK",
                    "GSI2SK",
                )
                if name in previous
            }
        item: dict[str, Any] = {
            **carried,
            "PK": f"REC#{recommendation.id}",
            "SK": "REC",
            "kind": "recommendation",
            "GSI1PK": f"FN#{recommendation.function}",
            "GSI1SK": f"REC#{_iso(now)}",
            "recommendation": recommendation.model_dump(mode="json"),
            "stored_at": _iso(now),
            TTL_ATTRIBUTE: _epoch(now + ttl),
        }
        if function is not None:
            item["function"] = function.model_dump(mode="json")
        for name, value in (
            ("requested_by", requested_by),
            ("channel", channel),
            ("message_ts", message_ts),
        ):
            if value is not None:
                item[name] = value
        self._call("put_item", Item=serialize_item(item))
        return self._recommendation_from_item(item)

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation | None:
        """The stored recommendation, or None when unknown or expired."""
        item = self._get(f"REC#{recommendation_id}", "REC")
        if item is None:
            return None
        stored = self._recommendation_from_item(item)
        # DynamoDB deletes expired items lazily (up to days later), so check ourselves.
        if stored.expires_at <= self.now():
            return None
        return stored

    def _recommendation_from_item(self, item: dict[str, Any]) -> StoredRecommendation:
        return StoredRecommendation(
            recommendation=Recommendation.model_validate(item["recommendation"]),
            function=FunctionSnapshot.model_validate(item["function"])
            if "function" in item
            else None,
            requested_by=item.get("requested_by"),
            channel=item.get("channel"),
            message_ts=item.get("message_ts"),
            stored_at=_parse_time(item["stored_at"]),
            expires_at=datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]), UTC),
            approvers=tuple(item.get("approvers", ())),
            approval_round=int(item.get("approval_round", 0)),
        )

    def set_recommendation_message(self, recommendation_id: str, channel: str, ts: str) -> None:
        """Remember where the recommendation's card was posted (to update it later)."""
        updated = self._update(
            (f"REC#{recommendation_id}", "REC"),
            "SET channel = :channel, message_ts = :ts",
            condition="attribute_exists(PK)",
            values={":channel": channel, ":ts": ts},
        )
        if updated is None:
            raise StoreError(f"Recommendation {recommendation_id} is not stored (or has expired).")

    def recommendations_for(self, function: str, limit: int = 50) -> list[StoredRecommendation]:
        """Unexpired recommendations of one function (name or ARN), newest first."""
        name = function_name_of(function)
        now = self.now()
        found: list[StoredRecommendation] = []
        for item in self._query(
            "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            {":pk": f"FN#{name}", ":prefix": "REC#"},
            index="GSI1",
        ):
            stored = self._recommendation_from_item(item)
            if stored.expires_at <= now:
                continue
            if function.startswith("arn:") and stored.recommendation.function_arn != function:
                continue
            found.append(stored)
            if len(found) >= limit:
                break
        return found

    # ------------------------------------------------------------------ approvals

    def add_approval(self, recommendation_id: str, user: str) -> tuple[bool, tuple[str, ...]]:
        """Record ``user``'s approval once. Returns (new, every approver so far, in order).

        Approvals count towards the recommendation's current *approval round*: one application
        of its change. Applying or undoing the change starts a new round, so approvals given
        for one application never authorise the next one.
        """
        stored = self.get_recommendation(recommendation_id)
        if stored is None:
            raise StoreError(f"Recommendation {recommendation_id} is not stored (or has expired).")
        now = self.now()
        round_ = stored.approval_round
        try:
            # An approval left from an expired earlier life of the same id is replaced.
            self._call(
                "put_item",
                Item=serialize_item(
                    {
                        "PK": f"REC#{recommendation_id}",
                        "SK": f"{_approval_prefix(round_)}{user}",
                        "kind": "approval",
                        "user": user,
                        "approval_round": round_,
                        "approved_at": _iso(now),
                        TTL_ATTRIBUTE: _epoch(stored.expires_at),
                    }
                ),
                ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                ExpressionAttributeValues={":now": serialize_value(_epoch(now))},
            )
            created = True
        except ClientError:
            created = False
        approvers = tuple(
            approval.user for approval in self.approvals(recommendation_id, round_=round_)
        )
        # Denormalised on the recommendation so listings need one read; the sparse GSI2 lists
        # recommendations waiting for approvals until one is applied. Only while the round is
        # still the one approved: an apply or undo in between started a new one.
        pending = self._update(
            (f"REC#{recommendation_id}", "REC"),
            "SET approvers = :approvers, GSI2PK = :pending, GSI2SK = :at",
            condition=(
                "attribute_exists(PK) AND attribute_not_exists(applied_change) AND "
                "(approval_round = :round OR (attribute_not_exists(approval_round) AND "
                ":round = :zero))"
            ),
            values={
                ":approvers": list(approvers),
                ":pending": "PENDING",
                ":at": _iso(now),
                ":round": round_,
                ":zero": 0,
            },
        )
        if pending is None:
            logger.info("recommendation %s is applied or moved on; not pending", recommendation_id)
        return created, approvers

    def approvals(self, recommendation_id: str, *, round_: int | None = None) -> list[Approval]:
        """Distinct approvers of the recommendation's current approval round (or of
        ``round_``), earliest first; expired ones left out."""
        if round_ is None:
            stored = self.get_recommendation(recommendation_id)
            if stored is None:
                return []
            round_ = stored.approval_round
        now = _epoch(self.now())
        approvals = [
            Approval(
                recommendation_id=recommendation_id,
                user=item["user"],
                approved_at=_parse_time(item["approved_at"]),
            )
            for item in self._query(
                "PK = :pk AND begins_with(SK, :prefix)",
                {":pk": f"REC#{recommendation_id}", ":prefix": _approval_prefix(round_)},
                newest_first=False,
            )
            if int(item[TTL_ATTRIBUTE]) > now
        ]
        return sorted(approvals, key=lambda approval: approval.approved_at)

    def pending_approvals(self, limit: int = 20) -> list[StoredRecommendation]:
        """Unexpired, unapplied recommendations with at least one approval, newest first."""
        now = self.now()
        found: list[StoredRecommendation] = []
        for item in self._query("GSI2PK = :pk", {":pk": "PENDING"}, index="GSI2"):
            stored = self._recommendation_from_item(item)
            if stored.expires_at > now:
                found.append(stored)
            if len(found) >= limit:
                break
        return found

    def mark_recommendation_applied(self, recommendation_id: str, change_id: str) -> None:
        """Take it off the pending list, remember which change applied it, and end the
        approval round: approvals belong to this one application."""
        marked = self._update(
            (f"REC#{recommendation_id}", "REC"),
            "SET applied_change = :change, approvers = :none, "
            "approval_round = if_not_exists(approval_round, :zero) + :one "
            "REMOVE GSI2PK, GSI2SK",
            # A repeated mark (a retry, a repair) skips a round: that only drops approvals given
            # after the change was applied, which approve nothing.
            condition="attribute_exists(PK)",
            values={":change": change_id, ":none": [], ":zero": 0, ":one": 1},
        )
        if marked is None:
            logger.info("recommendation %s expired before it was marked applied", recommendation_id)

    def mark_recommendation_undone(self, recommendation_id: str) -> None:
        """After an undo of ``change_id`` the recommendation is appliable again, with a new
        approval round: approvals given while it was applied do not count either."""
        marked = self._update(
            (f"REC#{recommendation_id}", "REC"),
            "SET approvers = :none, approval_round = if_not_exists(approval_round, :zero) + :one "
            "REMOVE applied_change",
            condition="attribute_exists(PK)",
            values={":none": [], ":zero": 0, ":one": 1},
        )
        if marked is None:
            logger.info("recommendation %s expired before its change was undone", recommendation_id)

    # ------------------------------------------------------------------ claims (at most once)

    def claim(self, key: str, actor: str, *, lease: timedelta = CLAIM_LEASE) -> ClaimResult:
        """Take the right to act once for ``key`` (e.g. ``apply#<rec id>``).

        One conditional put decides between concurrent callers: the first gets
        ``acquired=True`` and a fresh change id; everyone else gets the holder's claim (in
        progress, or its final status). A claim whose attempt ended stale, failed or was
        undone, whose holder's lease ran out, or that expired (30 days), can be taken again.
        """
        now = self.now()
        claim = Claim(
            key=key,
            change_id=new_change_id(),
            actor=actor,
            status=ClaimStatus.IN_PROGRESS,
            claimed_at=now,
            lease_until=now + lease,
        )
        item = {
            "PK": f"CLAIM#{key}",
            "SK": "CLAIM",
            "kind": "claim",
            "claim_key": key,
            "change_id": claim.change_id,
            "actor": actor,
            "status": claim.status.value,
            "claimed_at": _iso(now),
            "lease_until": _epoch(claim.lease_until),
            "message": "",
            TTL_ATTRIBUTE: _epoch(now + CLAIM_TTL),
        }
        try:
            response = self._call(
                "put_item",
                Item=serialize_item(item),
                # The replaced claim tells the winner which earlier attempt to look at.
                ReturnValues="ALL_OLD",
                ConditionExpression=(
                    "attribute_not_exists(PK) OR #status IN (:stale, :failed, :released) "
                    "OR (#status = :in_progress AND lease_until < :now) OR expires_at <= :now"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":stale": serialize_value(ClaimStatus.STALE.value),
                    ":failed": serialize_value(ClaimStatus.FAILED.value),
                    ":released": serialize_value(ClaimStatus.RELEASED.value),
                    ":in_progress": serialize_value(ClaimStatus.IN_PROGRESS.value),
                    ":now": serialize_value(_epoch(now)),
                },
            )
        except ClientError:
            holder = self.get_claim(key)
            if holder is None:  # released between our put and our read: try once more
                return self.claim(key, actor, lease=lease)
            return ClaimResult(acquired=False, claim=holder)
        old = response.get("Attributes")
        previous = self._claim_from_item(deserialize_item(old)) if old else None
        return ClaimResult(acquired=True, claim=claim, previous=previous)

    def get_claim(self, key: str) -> Claim | None:
        item = self._get(f"CLAIM#{key}", "CLAIM")
        if item is None:
            return None
        return self._claim_from_item(item)

    @staticmethod
    def _claim_from_item(item: dict[str, Any]) -> Claim:
        return Claim(
            key=item["claim_key"],
            change_id=item["change_id"],
            actor=item["actor"],
            status=ClaimStatus(item["status"]),
            claimed_at=_parse_time(item["claimed_at"]),
            lease_until=datetime.fromtimestamp(int(item["lease_until"]), UTC),
            message=item.get("message", ""),
        )

    def finish_claim(
        self,
        key: str,
        change_id: str,
        status: ClaimStatus,
        message: str = "",
        *,
        record_as: str | None = None,
    ) -> None:
        """Record how the holder's attempt ended (only the holder, by change id, may).

        ``record_as``: the change the claim stands for from now on, when the holder found that
        an earlier attempt's change had taken effect (the claim then points to that change).
        """
        finished = self._update(
            (f"CLAIM#{key}", "CLAIM"),
            "SET #status = :status, message = :message, change_id = :record_as",
            condition="change_id = :change_id",
            names={"#status": "status"},
            values={
                ":status": status.value,
                ":message": message,
                ":change_id": change_id,
                ":record_as": record_as or change_id,
            },
        )
        if finished is None:
            raise ClaimLostError(
                f"The claim {key} is no longer held by change {change_id}; "
                "another attempt took it over."
            )

    def release_claim(self, key: str) -> None:
        """After an undo: the key may be claimed again (only an applied claim is released)."""
        released = self._update(
            (f"CLAIM#{key}", "CLAIM"),
            "SET #status = :released",
            condition="#status = :applied",
            names={"#status": "status"},
            values={":released": ClaimStatus.RELEASED.value, ":applied": ClaimStatus.APPLIED.value},
        )
        if released is None:
            logger.info("claim %s was not in the applied state; left as is", key)

    # ------------------------------------------------------------------ change records

    def _change_item(self, record: ChangeRecord) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PK": f"CHANGE#{record.change_id}",
            "SK": "CHANGE",
            "kind": "change",
            **self._record_attributes(record),
        }
        if record.status is not ChangeStatus.FAILED:
            # Failed attempts changed nothing: they stay readable by id but are not listed.
            item |= {
                "GSI1PK": f"FN#{record.function_name}",
                "GSI1SK": f"CHANGE#{_iso(record.applied_at)}#{record.change_id}",
                "GSI2PK": f"CHANGES#{_month(record.applied_at)}",
                "GSI2SK": f"{_iso(record.applied_at)}#{record.change_id}",
            }
        return item

    def put_change(self, record: ChangeRecord, *, exist_ok: bool = False) -> None:
        """Store a new change record (usually the intent); a change id is never reused.

        ``exist_ok``: change ids are fresh for each attempt, so finding the id taken means an
        earlier try of this very write succeeded (its answer was lost)."""
        if self._put_new(self._change_item(record)):
            return
        if not exist_ok or self._get(f"CHANGE#{record.change_id}", "CHANGE") is None:
            raise StoreError(f"A change with id {record.change_id} is already recorded.")

    def complete_change(self, record: ChangeRecord) -> bool:
        """Turn an ``intended`` record into its outcome (``applied`` or ``failed``), once.

        False when the record was no longer ``intended`` (another attempt resolved it first).
        """
        try:
            self._call(
                "put_item",
                Item=serialize_item(self._change_item(record)),
                ConditionExpression="#status = :intended",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":intended": serialize_value(ChangeStatus.INTENDED.value)
                },
            )
        except ClientError:  # only ConditionalCheckFailed reaches here
            current = self.get_change(record.change_id)
            if current is None or current.status is ChangeStatus.INTENDED:
                # The condition cannot have failed on an intended record: try again.
                raise StoreError(
                    f"The record of change {record.change_id} could not be finished."
                ) from None
            return False
        return True

    @staticmethod
    def _record_attributes(record: ChangeRecord) -> dict[str, Any]:
        # None is stored as NULL: some changes mean something by it (unreserved concurrency).
        data = record.model_dump(mode="json")
        data["applied_at"] = _iso(record.applied_at)
        if record.undone_at is not None:
            data["undone_at"] = _iso(record.undone_at)
        return data

    @staticmethod
    def _change_from_item(item: dict[str, Any]) -> ChangeRecord:
        fields = {name: item[name] for name in ChangeRecord.model_fields if name in item}
        return ChangeRecord.model_validate(fields)

    def get_change(self, change_id: str) -> ChangeRecord | None:
        item = self._get(f"CHANGE#{change_id}", "CHANGE")
        return self._change_from_item(item) if item else None

    def mark_change_undone(self, change_id: str, undo_change_id: str, actor: str) -> bool:
        """Applied -> undone, once. False when it was not in the applied state."""
        undone = self._update(
            (f"CHANGE#{change_id}", "CHANGE"),
            "SET #status = :undone, undone_by = :actor, undone_at = :at, undo_change_id = :undo",
            condition="#status = :applied",
            names={"#status": "status"},
            values={
                ":undone": ChangeStatus.UNDONE.value,
                ":applied": ChangeStatus.APPLIED.value,
                ":actor": actor,
                ":at": _iso(self.now()),
                ":undo": undo_change_id,
            },
        )
        return undone is not None

    def changes_for_function(
        self, function: str, limit: int = 20, *, intended: bool = False
    ) -> list[ChangeRecord]:
        """Applied (and undone) changes of one function, newest first; with ``intended``,
        also the intents whose outcome is not recorded yet."""
        found: list[ChangeRecord] = []
        for item in self._query(
            "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            {":pk": f"FN#{function_name_of(function)}", ":prefix": "CHANGE#"},
            index="GSI1",
        ):
            record = self._change_from_item(item)
            if record.status is ChangeStatus.INTENDED and not intended:
                continue
            found.append(record)
            if len(found) >= limit:
                break
        return found

    def recent_changes(self, limit: int = 20, *, intended: bool = False) -> list[ChangeRecord]:
        """Applied (and undone) changes over all functions, newest first; with ``intended``,
        also the intents whose outcome is not recorded yet."""
        found: list[ChangeRecord] = []
        month = _month(self.now())
        for _ in range(AUDIT_MONTHS_BACK):
            for item in self._query("GSI2PK = :pk", {":pk": f"CHANGES#{month}"}, index="GSI2"):
                record = self._change_from_item(item)
                if record.status is ChangeStatus.INTENDED and not intended:
                    continue
                found.append(record)
                if len(found) >= limit:
                    return found
            month = _previous_month(month)
        return found

    # ------------------------------------------------------------------ audit (append-only)

    def append_audit(self, record: AuditRecord, *, exist_ok: bool = False) -> None:
        """Write an audit record. It can never be overwritten: the put is conditional.

        ``exist_ok``: the record's id and time are derived from its change, so finding it
        already there means an earlier try of this very write succeeded."""
        at = _iso(record.at)
        item = {
            "PK": f"AUDIT#{_month(record.at)}",
            "SK": f"{at}#{record.audit_id}",
            "kind": "audit",
            "GSI1PK": f"FN#{record.function_name}",
            "GSI1SK": f"AUDIT#{at}#{record.audit_id}",
            **record.model_dump(mode="json"),
            "at": at,
        }
        if self._put_new(item):
            return
        if not exist_ok or self._get(item["PK"], item["SK"]) is None:
            raise StoreError(f"Audit record {record.audit_id} already exists.")

    def new_audit_record(self, **fields: Any) -> AuditRecord:
        """An audit record stamped with a fresh id and the store's clock."""
        return AuditRecord(audit_id=_new_audit_id(), at=self.now(), **fields)

    @staticmethod
    def _audit_from_item(item: dict[str, Any]) -> AuditRecord:
        fields = {name: item[name] for name in AuditRecord.model_fields if name in item}
        return AuditRecord.model_validate(fields)

    def recent_audit(self, limit: int = 50, function: str | None = None) -> list[AuditRecord]:
        """Audit records, newest first; of one function (name or ARN) when given."""
        if function is not None:
            return [
                self._audit_from_item(item)
                for item in self._query(
                    "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
                    {":pk": f"FN#{function_name_of(function)}", ":prefix": "AUDIT#"},
                    index="GSI1",
                    limit=limit,
                )
            ]
        found: list[AuditRecord] = []
        month = _month(self.now())
        for _ in range(AUDIT_MONTHS_BACK):
            for item in self._query("PK = :pk", {":pk": f"AUDIT#{month}"}, limit=limit):
                found.append(self._audit_from_item(item))
                if len(found) >= limit:
                    return found
            month = _previous_month(month)
        return found

    # ------------------------------------------------------------------ dismissals

    def dismiss(
        self, function: str, rule_id: str, *, until: datetime, actor: str, reason: str = ""
    ) -> Dismissal:
        """Hide a rule's recommendations for a function until ``until`` (latest call wins)."""
        name = function_name_of(function)
        dismissal = Dismissal(
            function_name=name,
            rule_id=rule_id,
            until=until,
            actor=actor,
            dismissed_at=self.now(),
            reason=reason,
        )
        self._call(
            "put_item",
            Item=serialize_item(
                {
                    "PK": f"DISMISS#{name}",
                    "SK": f"RULE#{rule_id}",
                    "kind": "dismissal",
                    **dismissal.model_dump(mode="json"),
                    TTL_ATTRIBUTE: _epoch(until),
                }
            ),
        )
        return dismissal

    def dismissals(self, function: str) -> list[Dismissal]:
        """Dismissals of a function that are still in force."""
        now = self.now()
        found = [
            Dismissal.model_validate(
                {name: item[name] for name in Dismissal.model_fields if name in item}
            )
            for item in self._query(
                "PK = :pk AND begins_with(SK, :prefix)",
                {":pk": f"DISMISS#{function_name_of(function)}", ":prefix": "RULE#"},
                newest_first=False,
            )
        ]
        return [dismissal for dismissal in found if dismissal.until > now]

    def is_dismissed(self, function: str, rule_id: str) -> bool:
        return any(d.rule_id == rule_id for d in self.dismissals(function))

    # ------------------------------------------------------------------ alert threads

    def create_alert_thread(
        self,
        key: str,
        state: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        ttl: timedelta = ALERT_THREAD_TTL,
    ) -> AlertThreadClaim:
        """Create the thread record for a de-dup key, unless one exists (then return it).

        Flapping alarms and repeated anomalies call this concurrently; exactly one caller gets
        ``created=True`` and posts the parent message, the others reply in its thread.
        """
        now = self.now()
        item: dict[str, Any] = {
            "PK": f"ALERT#{key}",
            "SK": "THREAD",
            "kind": "alert_thread",
            "key": key,
            "state": state,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            TTL_ATTRIBUTE: _epoch(now + ttl),
        }
        if channel is not None:
            item["channel"] = channel
        if ts is not None:
            item["ts"] = ts
        try:
            # An expired record may linger until DynamoDB's lazy TTL deletion: replace it.
            self._call(
                "put_item",
                Item=serialize_item(item),
                ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                ExpressionAttributeValues={":now": serialize_value(_epoch(now))},
            )
        except ClientError:
            existing = self.get_alert_thread(key)
            if existing is not None:
                return AlertThreadClaim(created=False, thread=existing)
            return self.create_alert_thread(key, state, channel=channel, ts=ts, ttl=ttl)
        return AlertThreadClaim(created=True, thread=self._thread_from_item(item))

    @staticmethod
    def _thread_from_item(item: dict[str, Any]) -> AlertThread:
        return AlertThread(
            key=item["key"],
            state=item["state"],
            channel=item.get("channel"),
            ts=item.get("ts"),
            created_at=_parse_time(item["created_at"]),
            updated_at=_parse_time(item["updated_at"]),
        )

    def get_alert_thread(self, key: str) -> AlertThread | None:
        item = self._get(f"ALERT#{key}", "THREAD")
        if item is None or int(item[TTL_ATTRIBUTE]) <= _epoch(self.now()):
            return None
        return self._thread_from_item(item)

    def update_alert_thread(
        self,
        key: str,
        *,
        state: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
        ttl: timedelta = ALERT_THREAD_TTL,
    ) -> AlertThread:
        """Set the state and/or where the parent message is; extends the expiry."""
        now = self.now()
        updates = {"updated_at": _iso(now), TTL_ATTRIBUTE: _epoch(now + ttl)}
        for name, value in (("state", state), ("channel", channel), ("ts", ts)):
            if value is not None:
                updates[name] = value
        names = {f"#a{i}": name for i, name in enumerate(updates)}
        # Recording where a posted message is must not fail on one bad answer: without it,
        # Lambda's retry of the event posts a second card. So that write is tried again.
        delays = ALERT_THREAD_TS_RETRIES if ts is not None else ()
        for delay in (*delays, None):
            try:
                response = self._update(
                    (f"ALERT#{key}", "THREAD"),
                    "SET " + ", ".join(f"{n} = :v{n[2:]}" for n in names),
                    condition="attribute_exists(PK)",
                    names=names,
                    values={f":v{i}": value for i, value in enumerate(updates.values())},
                    returns="ALL_NEW",
                )
                if response is None:
                    raise StoreError(f"There is no alert thread for {key}.")
            except StoreError:
                if delay is None:
                    raise
                logger.warning("recording the alert thread of %s failed; retrying", key)
                self._sleep(delay)
                continue
            return self._thread_from_item(deserialize_item(response["Attributes"]))
        raise AssertionError("unreachable")  # pragma: no cover

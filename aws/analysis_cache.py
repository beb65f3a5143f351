"""Analyses by function revision in the state table (:class:`service.ports.AnalysisCache`).

One item per function: ``PK = ANALYSIS#<function ARN>``, ``SK = ANALYSIS``, holding the
revision it was read at (``RevisionId/CodeSha256``), the snapshot as JSON and ``expires_at``
(the table's TTL attribute, epoch seconds). A newer revision's analysis replaces the item; a
``get`` for another revision, or after ``expires_at``, is a miss (DynamoDB deletes expired
items lazily, so the adapter checks the time itself).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.error_codes import translate
from aws.store_codec import deserialize_item, serialize_item
from aws.store_models import StoreError, StoreNotConfiguredError
from aws.store_tables import TABLE_ENV, TTL_ATTRIBUTE
from recommendations.snapshot import FunctionSnapshot
from service.ports import CachedAnalysis

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IAM_ACTIONS: tuple[str, ...] = ("dynamodb:GetItem", "dynamodb:PutItem")
SORT_KEY = "ANALYSIS"


def partition_key(function_arn: str) -> str:
    return f"ANALYSIS#{function_arn}"


class DynamoAnalysisCache:
    """The state table (``TUNEBOT_TABLE``) as the cache of one analysis per function revision."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        if not table_name:
            raise StoreNotConfiguredError(f"{TABLE_ENV} is not set: there is no state table.")
        self.table_name = table_name
        self.client = client

    def get(self, function_arn: str, revision: str, *, now: datetime) -> CachedAnalysis | None:
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key=serialize_item({"PK": partition_key(function_arn), "SK": SORT_KEY}),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise _store_error(error, "read a cached analysis") from error
        raw = response.get("Item")
        if not raw:
            return None
        item = deserialize_item(raw)
        if item.get("revision") != revision:
            return None
        if int(item.get(TTL_ATTRIBUTE) or 0) <= now.timestamp():
            return None
        return CachedAnalysis(
            function_arn=function_arn,
            revision=revision,
            snapshot=FunctionSnapshot.model_validate_json(str(item["snapshot"])),
            analysed_at=datetime.fromisoformat(str(item["analysed_at"])),
            expires_at=datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]), UTC),
            package_read=bool(item.get("package_read")),
        )

    def put(self, analysis: CachedAnalysis) -> None:
        item: dict[str, Any] = {
            "PK": partition_key(analysis.function_arn),
            "SK": SORT_KEY,
            "type": "analysis",
            "function_arn": analysis.function_arn,
            "revision": analysis.revision,
            # One JSON string: a snapshot holds floats and nested lists DynamoDB would
            # otherwise need converting, and it is only ever read back whole.
            "snapshot": json.dumps(analysis.snapshot.model_dump(mode="json")),
            "analysed_at": analysis.analysed_at.isoformat(),
            "package_read": analysis.package_read,
            TTL_ATTRIBUTE: int(analysis.expires_at.timestamp()),
        }
        try:
            self.client.put_item(TableName=self.table_name, Item=serialize_item(item))
        except (ClientError, BotoCoreError) as error:
            raise _store_error(error, "store an analysis") from error


def _store_error(error: Exception, doing: str) -> StoreError:
    translated = translate(error, doing)
    return StoreError(str(translated), retryable=translated.retryable, code=translated.code)

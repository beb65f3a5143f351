"""Creating tunebot's DynamoDB tables (``tunebot store init``).

The key layout is described in ``aws/store.py`` and ``docs/state.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from aws.error_codes import error_code, translate
from aws.store_models import StoreError, StoreNotConfiguredError, TableStatus

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_ENV = "TUNEBOT_TABLE"
IDEMPOTENCY_TABLE_ENV = "TUNEBOT_IDEMPOTENCY_TABLE"
DEFAULT_IDEMPOTENCY_TABLE = "tunebot-idempotency"
TTL_ATTRIBUTE = "expires_at"

# Only ``create_tables`` (``tunebot store init``, run by an operator) needs these; the deployed
# functions must not hold them.
INIT_IAM_ACTIONS: tuple[str, ...] = (
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTimeToLive",
)


def create_tables(
    table_name: str,
    idempotency_table_name: str = DEFAULT_IDEMPOTENCY_TABLE,
    client: DynamoDBClient | None = None,
) -> dict[str, TableStatus]:
    """Create the tunebot table and the Powertools idempotency table if missing.

    Idempotent: existing tables are left as they are and reported as ``exists``. Both use
    on-demand capacity and have TTL enabled (``expires_at`` and ``expiration``).
    """
    if not table_name:
        raise StoreNotConfiguredError(
            f"{TABLE_ENV} is not set; set it to the name the tunebot table should have."
        )
    dynamodb = client if client is not None else boto3.client("dynamodb")
    results: dict[str, TableStatus] = {}
    string = "S"
    gsi = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": f"{index}PK", "KeyType": "HASH"},
                {"AttributeName": f"{index}SK", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index in ("GSI1", "GSI2")
    ]
    specs: list[tuple[str, dict[str, Any], str]] = [
        (
            table_name,
            {
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": name, "AttributeType": string}
                    for name in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
                ],
                "GlobalSecondaryIndexes": gsi,
            },
            TTL_ATTRIBUTE,
        ),
        (
            idempotency_table_name,
            {
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": string}],
            },
            "expiration",
        ),
    ]
    for name, spec, ttl_attribute in specs:
        results[name] = _create_table(dynamodb, name, spec, ttl_attribute)
    return results


def _store_error(error: Exception, doing: str) -> StoreError:
    translated = translate(error, doing)
    return StoreError(str(translated), retryable=translated.retryable, code=translated.code)


def _create_table(client: Any, name: str, spec: dict[str, Any], ttl_attribute: str) -> TableStatus:
    doing = f"create the DynamoDB table {name}"
    try:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **spec)
    except ClientError as error:
        if error_code(error) == "ResourceInUseException":
            _check_existing(client, name, spec)
            return TableStatus.EXISTS
        raise _store_error(error, doing) from error
    except BotoCoreError as error:
        raise _store_error(error, doing) from error
    try:
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
        )
    except (ClientError, BotoCoreError) as error:
        raise _store_error(error, f"finish setting up table {name}") from error
    return TableStatus.CREATED


def _check_existing(client: Any, name: str, spec: dict[str, Any]) -> None:
    """An existing table must have the keys and indexes tunebot writes to."""
    try:
        table = client.describe_table(TableName=name)["Table"]
    except (ClientError, BotoCoreError) as error:
        raise _store_error(error, f"read the DynamoDB table {name}") from error
    expected_keys = {(key["AttributeName"], key["KeyType"]) for key in spec["KeySchema"]}
    actual_keys = {(key["AttributeName"], key["KeyType"]) for key in table.get("KeySchema", [])}
    expected_indexes = {index["IndexName"] for index in spec.get("GlobalSecondaryIndexes", [])}
    actual_indexes = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    if actual_keys != expected_keys or not expected_indexes <= actual_indexes:
        keys = ", ".join(sorted(f"{attribute} ({kind})" for attribute, kind in expected_keys))
        indexes = (
            f" and the indexes {', '.join(sorted(expected_indexes))}" if expected_indexes else ""
        )
        raise StoreError(
            f"The DynamoDB table {name} already exists with a different layout; tunebot needs "
            f"the keys {keys}{indexes}. Choose another table name."
        )

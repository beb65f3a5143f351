"""The analysis cache on moto's DynamoDB: one item per function, by revision, with a TTL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from aws.analysis_cache import DynamoAnalysisCache, partition_key
from aws.store_models import StoreError, StoreNotConfiguredError
from aws.store_tables import TTL_ATTRIBUTE, create_tables
from fakes.services import NOW, snapshot
from recommendations.snapshot import NativeBinary
from service.ports import CachedAnalysis

TABLE = "tunebot-cache-test"
REGION = "us-east-1"


@pytest.fixture
def cache() -> Iterator[DynamoAnalysisCache]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(TABLE, "tunebot-idempotency-cache-test", client=client)
        yield DynamoAnalysisCache(TABLE, client)


def _entry(revision: str = "rev-1/sha-1", **extra: object) -> CachedAnalysis:
    fn = snapshot(
        "checkout-api",
        revision_id=revision.split("/")[0],
        native_binaries=(NativeBinary(path="lib/x.so", machine="aarch64"),),
    )
    fields: dict[str, object] = {
        "function_arn": fn.arn,
        "revision": revision,
        "snapshot": fn,
        "analysed_at": NOW,
        "expires_at": NOW + timedelta(hours=6),
        "package_read": True,
    }
    fields.update(extra)
    return CachedAnalysis(**fields)  # type: ignore[arg-type]


def test_a_stored_analysis_reads_back_whole(cache: DynamoAnalysisCache) -> None:
    entry = _entry()
    cache.put(entry)
    assert cache.get(entry.function_arn, entry.revision, now=NOW) == entry


def test_the_item_uses_the_tables_keys_and_ttl_attribute(cache: DynamoAnalysisCache) -> None:
    entry = _entry()
    cache.put(entry)
    item = cache.client.get_item(
        TableName=TABLE,
        Key={"PK": {"S": partition_key(entry.function_arn)}, "SK": {"S": "ANALYSIS"}},
    )["Item"]
    assert item[TTL_ATTRIBUTE] == {"N": str(int(entry.expires_at.timestamp()))}


def test_another_revision_is_a_miss_and_a_new_one_replaces_it(cache: DynamoAnalysisCache) -> None:
    old = _entry()
    cache.put(old)
    assert cache.get(old.function_arn, "rev-2/sha-1", now=NOW) is None
    new = _entry("rev-2/sha-1")
    cache.put(new)
    assert cache.get(old.function_arn, "rev-2/sha-1", now=NOW) == new
    assert cache.get(old.function_arn, old.revision, now=NOW) is None


def test_an_expired_item_is_a_miss_before_dynamodb_deletes_it(cache: DynamoAnalysisCache) -> None:
    entry = _entry()
    cache.put(entry)
    assert cache.get(entry.function_arn, entry.revision, now=entry.expires_at) is None
    before = entry.expires_at - timedelta(seconds=1)
    assert cache.get(entry.function_arn, entry.revision, now=before) == entry


def test_an_unknown_function_is_a_miss(cache: DynamoAnalysisCache) -> None:
    assert cache.get("arn:aws:lambda:us-east-1:1:function:nope", "r/s", now=NOW) is None


def test_a_missing_table_is_a_store_error() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        with pytest.raises(StoreError):
            DynamoAnalysisCache("no-such-table", client).get("arn", "r/s", now=NOW)
    with pytest.raises(StoreNotConfiguredError):
        DynamoAnalysisCache("", client)

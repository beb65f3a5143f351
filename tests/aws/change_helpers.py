"""Builders shared by the store, applier and change-service tests (engineer C2's area)."""

from __future__ import annotations

import contextlib
import io
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from aws.store import StateStore, create_tables
from recommendations.changes import Change, MemoryChange
from recommendations.recommendation import Category, Confidence, Recommendation, Severity
from recommendations.snapshot import FunctionSnapshot

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "tunebot-test"
ROLE_NAME = "tunebot-test-function-role"


class Clock:
    """A clock tests move by hand; with ``tick`` it also advances on every reading."""

    def __init__(self, start: datetime | None = None, tick: timedelta | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        self.tick = tick

    def __call__(self) -> datetime:
        now = self.now
        if self.tick:
            self.now += self.tick
        return now


def zip_bytes(source: str = "def handler(event, context):\n    return 'ok'\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def create_role() -> str:
    iam = boto3.client("iam", region_name=REGION)
    try:
        return str(iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        pass
    document = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    )
    return str(
        iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=document)["Role"]["Arn"]
    )


def create_function(
    name: str = "checkout-api", memory: int = 1024, timeout: int = 30, region: str = REGION
) -> str:
    """A zip function in moto; returns its ARN."""
    client = boto3.client("lambda", region_name=region)
    response = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=create_role(),
        Handler="app.handler",
        Code={"ZipFile": zip_bytes()},
        MemorySize=memory,
        Timeout=timeout,
    )
    return str(response["FunctionArn"])


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def snapshot(name: str = "checkout-api", *, revision_id: str | None = None) -> FunctionSnapshot:
    return FunctionSnapshot(
        name=name,
        arn=function_arn(name),
        account_id=ACCOUNT,
        region=REGION,
        runtime="python3.12",
        memory_mb=1024,
        timeout_s=30,
        revision_id=revision_id,
    )


def recommendation(change: Change | None = None, *, name: str = "checkout-api") -> Recommendation:
    change = change or MemoryChange(function_name=name, before=1024, after=512)
    return Recommendation(
        function=change.function_name,
        function_arn=function_arn(change.function_name),
        region=REGION,
        account_id=ACCOUNT,
        rule_id="MEM-001",
        category=Category.MEMORY,
        severity=Severity.MEDIUM,
        title="Memory is over-provisioned",
        rationale="Peak memory used is 180 MB of 1024 MB.",
        confidence=Confidence.HIGH,
        change=change,
        monthly_savings_usd=12.5,
    )


@contextmanager
def moto_store(clock: Clock | None = None) -> Iterator[StateStore]:
    """A store on a fresh moto table; the caller must be inside ``mock_aws``."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(TABLE, "tunebot-idempotency-test", client=client)
    serialise_dynamodb_writes(client)
    yield StateStore(TABLE, client, clock=clock or Clock())


def serialise_dynamodb_writes(client: Any) -> None:
    """Make moto's conditional writes atomic across threads, as real DynamoDB's are.

    moto checks a condition and then writes without a lock, so two threads can both pass the
    check; DynamoDB guarantees they cannot. A lock held from before-call to after-call (which
    botocore emits before raising a service error) restores that guarantee for the tests.
    """
    lock = threading.Lock()

    def acquire(**kwargs: Any) -> None:  # a non-None return would replace the response
        lock.acquire()

    def release(**kwargs: Any) -> None:
        lock.release()

    for operation in ("PutItem", "UpdateItem"):
        client.meta.events.register(f"before-call.dynamodb.{operation}", acquire)
        client.meta.events.register(f"after-call.dynamodb.{operation}", release)


def put_replaces_like_aws(lambda_client: Any) -> None:
    """moto appends a second event invoke config and keeps returning the first; AWS replaces
    it. Deleting the old one just before each put gives the tests AWS's behaviour."""
    other = boto3.client("lambda", region_name=REGION)

    def replace(params: dict[str, Any], **kwargs: Any) -> None:
        with contextlib.suppress(other.exceptions.ResourceNotFoundException):
            other.delete_function_event_invoke_config(FunctionName=params["FunctionName"])

    lambda_client.meta.events.register(
        "provide-client-params.lambda.PutFunctionEventInvokeConfig", replace
    )


def client_error(code: str, message: str = "", status: int = 400) -> dict[str, Any]:
    """Keyword arguments for ``Stubber.add_client_error``."""
    return {
        "service_error_code": code,
        "service_message": message or code,
        "http_status_code": status,
    }

"""JSON secrets from Secrets Manager: moto for the secrets, Stubber for AWS failing."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from aws.errors import AwsError, SecretError
from aws.secrets import read_secret_json

REGION = "us-east-1"


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def unique_arn() -> str:
    # The cache is per ARN and per process: every test reads its own.
    return f"arn:aws:secretsmanager:{REGION}:123456789012:secret:t-{uuid.uuid4().hex[:8]}"


class CountingClient:
    """Secrets Manager as seen by the reader, counting the calls (and slow, when asked)."""

    def __init__(self, client: Any, delay_s: float = 0.0) -> None:
        self._client = client
        self._delay_s = delay_s
        self.calls = 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.calls += 1
        time.sleep(self._delay_s)
        return self._client.get_secret_value(**kwargs)


def test_reads_the_string_values_of_the_json_object(secrets: Any) -> None:
    arn = secrets.create_secret(
        Name="tunebot/slack",
        SecretString=json.dumps(
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "count": 3}
        ),
    )["ARN"]
    assert read_secret_json(arn, secrets) == {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s3cret",
    }


def test_a_secret_is_read_once_per_arn(secrets: Any) -> None:
    arn = secrets.create_secret(Name="once", SecretString='{"a": "1"}')["ARN"]
    counting = CountingClient(secrets)
    first = read_secret_json(arn, counting)
    first["a"] = "changed by a caller"
    assert read_secret_json(arn, counting) == {"a": "1"}
    assert counting.calls == 1


def test_concurrent_first_reads_share_one_call(secrets: Any) -> None:
    arn = secrets.create_secret(Name="concurrent", SecretString='{"a": "1"}')["ARN"]
    counting = CountingClient(secrets, delay_s=0.05)
    results: list[dict[str, str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(read_secret_json(arn, counting)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"a": "1"}] * 8
    assert counting.calls == 1


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "The Slack secret {arn} is not a JSON object string."),
        ('["a"]', "The Slack secret {arn} is not a JSON object."),
    ],
)
def test_a_secret_that_is_not_a_json_object_is_one_sentence(
    secrets: Any, secret: str, message: str
) -> None:
    arn = secrets.create_secret(Name=f"bad-{uuid.uuid4().hex[:6]}", SecretString=secret)["ARN"]
    with pytest.raises(SecretError) as raised:
        read_secret_json(arn, secrets, what="Slack secret")
    assert str(raised.value) == message.format(arn=arn)
    assert not raised.value.retryable


def test_a_binary_secret_is_not_a_json_object_string(secrets: Any) -> None:
    arn = secrets.create_secret(Name="binary", SecretBinary=b"\x00\x01")["ARN"]
    with pytest.raises(SecretError, match=r"secret .* is not a JSON object string\.$"):
        read_secret_json(arn, secrets)


def test_a_missing_secret_is_one_sentence_and_not_retryable(secrets: Any) -> None:
    arn = unique_arn()
    with pytest.raises(SecretError) as raised:
        read_secret_json(arn, secrets, what="Slack secret")
    assert isinstance(raised.value, AwsError)
    assert str(raised.value).startswith(f"Could not read the Slack secret {arn}: ")
    assert str(raised.value).endswith(".") and "\n" not in str(raised.value)
    assert raised.value.code == "ResourceNotFoundException"
    assert not raised.value.retryable


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ThrottlingException", 400, True),
        ("InternalServiceError", 500, True),
        ("AccessDeniedException", 400, False),
        ("DecryptionFailure", 400, False),
    ],
)
def test_aws_failing_says_whether_to_retry(code: str, status: int, retryable: bool) -> None:
    client = boto3.client(
        "secretsmanager",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    arn = unique_arn()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_secret_value",
            service_error_code=code,
            service_message="Secrets Manager said no.",
            http_status_code=status,
        )
        with pytest.raises(SecretError) as raised:
            read_secret_json(arn, client)
    assert str(raised.value) == f"Could not read the secret {arn}: Secrets Manager said no."
    assert raised.value.retryable is retryable


def test_a_failed_read_is_tried_again_next_time() -> None:
    client = boto3.client(
        "secretsmanager",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    arn = unique_arn()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_secret_value", service_error_code="ThrottlingException", http_status_code=400
        )
        stub.add_response(
            "get_secret_value",
            {"ARN": arn, "Name": "t", "SecretString": '{"SLACK_BOT_TOKEN": "xoxb-2"}'},
            {"SecretId": arn},
        )
        with pytest.raises(SecretError):
            read_secret_json(arn, client)
        assert read_secret_json(arn, client) == {"SLACK_BOT_TOKEN": "xoxb-2"}
        stub.assert_no_pending_responses()

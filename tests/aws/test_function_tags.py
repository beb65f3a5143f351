"""Reading a function's tags at apply time (moto, and Stubber for AWS's error shapes)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from aws.errors import AccessDeniedError, FunctionNotFoundError
from aws.function_tags import read_function_tags

ARN = "arn:aws:lambda:us-east-1:123456789012:function:checkout-api"


def test_reads_the_tags_of_the_unqualified_function() -> None:
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        arn = client.create_function(
            FunctionName="checkout-api",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            Tags={"tunebot:managed": "true"},
        )["FunctionArn"]
        client.tag_resource(Resource=arn, Tags={"env": "prod"})
        assert read_function_tags(client, arn + ":live") == {
            "tunebot:managed": "true",
            "env": "prod",
        }


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("ResourceNotFoundException", FunctionNotFoundError),
        ("AccessDeniedException", AccessDeniedError),
    ],
)
def test_errors_are_one_sentence(code: str, raised: type[Exception]) -> None:
    """Stubber: moto cannot deny ListTags; the error shape is the one Lambda documents."""
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("list_tags", service_error_code=code, service_message="nope")
        with pytest.raises(raised) as caught:
            read_function_tags(client, ARN)
    assert "\n" not in str(caught.value)

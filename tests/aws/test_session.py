"""Sessions: adaptive retries, regions, assumed roles, TUNEBOT_ACCOUNTS and error sentences."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from moto import mock_aws

from aws.errors import (
    AccessDeniedError,
    AwsCallError,
    ConfigurationError,
    CredentialsError,
    FunctionNotFoundError,
    ResourceBusyError,
    ThrottledError,
)
from aws.session import (
    AccountTarget,
    AwsSession,
    account_targets,
    translate_error,
    translate_errors,
)


def client_error(
    code: str, message: str = "details", operation: str = "GetFunction"
) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_clients_use_adaptive_retries_and_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    session = AwsSession(region="eu-west-1")
    client = session.client("lambda")
    assert session.client("lambda") is client
    assert client.meta.region_name == "eu-west-1"
    retries = client.meta.config.retries
    assert retries["mode"] == "adaptive"
    assert retries["total_max_attempts"] == 10


def test_aws_max_attempts_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    client = AwsSession(region="us-east-1").client("sqs")
    assert client.meta.config.retries["total_max_attempts"] == 2


def test_for_region_keeps_credentials_and_account() -> None:
    session = AwsSession(region="us-east-1", account_id="111122223333")
    other = session.for_region("eu-central-1")
    assert other.region == "eu-central-1"
    assert other.account_id == "111122223333"
    assert other.boto_session is session.boto_session
    assert session.for_region("us-east-1") is session


@mock_aws
def test_account_id_and_assume_role() -> None:
    session = AwsSession(region="us-east-1")
    assert session.account_id == "123456789012"
    assumed = session.assume_role("arn:aws:iam::111122223333:role/tunebot-scan")
    assert assumed.account_id == "111122223333"
    assert assumed.region == "us-east-1"
    credentials = assumed.boto_session.get_credentials()
    assert credentials is not None and credentials.token


def test_account_targets_default_to_own_account() -> None:
    assert account_targets({}) == [AccountTarget()]


def test_account_targets_from_json() -> None:
    env = {
        "TUNEBOT_ACCOUNTS": '[{"role_arn": "arn:aws:iam::111122223333:role/tunebot", '
        '"regions": ["eu-west-1", "us-east-1"]}, {"regions": ["ap-south-1"]}]'
    }
    assert account_targets(env) == [
        AccountTarget(
            role_arn="arn:aws:iam::111122223333:role/tunebot", regions=("eu-west-1", "us-east-1")
        ),
        AccountTarget(regions=("ap-south-1",)),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "TUNEBOT_ACCOUNTS is not valid JSON"),
        ("{}", "TUNEBOT_ACCOUNTS must be a non-empty JSON list"),
        ("[]", "TUNEBOT_ACCOUNTS must be a non-empty JSON list"),
        ('[{"role_arn": "tunebot"}]', "TUNEBOT_ACCOUNTS has a bad entry (role_arn:"),
        ('[{"regions": ["x"], "extra": 1}]', "TUNEBOT_ACCOUNTS has a bad entry (extra:"),
    ],
)
def test_account_targets_errors(raw: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        account_targets({"TUNEBOT_ACCOUNTS": raw})
    assert str(caught.value).startswith(expected)


def test_translate_no_credentials() -> None:
    error = translate_error(NoCredentialsError(), action="list Lambda functions")
    assert isinstance(error, CredentialsError)
    assert str(error) == (
        "No AWS credentials found: configure a profile, environment variables or a role "
        "before tunebot can list Lambda functions."
    )


def test_translate_access_denied() -> None:
    error = translate_error(
        client_error(
            "AccessDeniedException", "User: x is not authorized to perform: lambda:GetFunction."
        ),
        action="read the function",
        function="checkout",
        region="eu-west-1",
    )
    assert isinstance(error, AccessDeniedError)
    assert str(error) == (
        "Access denied: the credentials may not read the function in eu-west-1 "
        "(User: x is not authorized to perform: lambda:GetFunction)."
    )


def test_translate_function_not_found() -> None:
    error = translate_error(
        client_error("ResourceNotFoundException", "Function not found: arn:..."),
        action="read the function",
        function="checkout",
        region="eu-west-1",
    )
    assert isinstance(error, FunctionNotFoundError)
    assert str(error) == "Function 'checkout' was not found in eu-west-1."


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ThrottlingException", ThrottledError),
        ("TooManyRequestsException", ThrottledError),
        ("ExpiredTokenException", CredentialsError),
        ("UnrecognizedClientException", CredentialsError),
        ("ServiceException", AwsCallError),
    ],
)
def test_translate_other_codes(code: str, kind: type[Exception]) -> None:
    assert isinstance(translate_error(client_error(code), action="x"), kind)


def test_an_update_in_progress_is_busy_not_a_plain_failure() -> None:
    """409 ResourceConflictException is Lambda's answer while an update is in progress."""
    error = translate_error(
        client_error(
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for "
            "resource: arn:aws:lambda:us-east-1:123456789012:function:checkout",
            "UpdateFunctionConfiguration",
        ),
        action="change the function's memory",
        function="checkout",
    )
    assert isinstance(error, ResourceBusyError)
    assert str(error) == (
        "Could not change the function's memory: checkout is being updated; try again in a minute."
    )


def test_translate_html_error_page_is_not_shown() -> None:
    error = translate_error(
        client_error("500", "<!doctype html>\n<title>500 Internal Server Error</title>"),
        action="read CloudWatch metrics",
    )
    assert str(error) == "Could not read CloudWatch metrics: 500."


def test_translate_endpoint_unreachable() -> None:
    error = translate_error(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), action="list Lambda functions"
    )
    assert isinstance(error, AwsCallError)
    assert str(error).startswith("Could not reach AWS to list Lambda functions:")


def test_translate_errors_context_manager_chains_the_cause() -> None:
    original = client_error("AccessDenied")
    with pytest.raises(AccessDeniedError) as caught, translate_errors("list Lambda functions"):
        raise original
    assert caught.value.__cause__ is original

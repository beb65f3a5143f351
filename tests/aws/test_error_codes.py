"""The one table of AWS error codes (aws/error_codes.py): each code's class and retryable flag,
the generic error's flag from the HTTP status, and every translator of ``aws`` agreeing with it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    WaiterError,
)

import aws
from aws import errors as aws_errors
from aws.appliers import errors as change_errors
from aws.error_codes import (
    ERROR_CODES,
    classify,
    is_access_denied,
    is_busy,
    is_credentials_error,
    is_not_found,
    is_retryable,
    is_stale,
    is_throttling,
    translate,
)
from aws.session import translate_error

# Whether each kind of error is worth retrying, as the issue decided it: AWS may accept the
# same call later when it throttled or was busy; never when it refused the request itself.
RETRYABLE = {
    aws_errors.ThrottledError: True,
    aws_errors.ResourceBusyError: True,
    aws_errors.AccessDeniedError: False,
    aws_errors.CredentialsError: False,
    aws_errors.ResourceNotFoundError: False,
    aws_errors.ResourceChangedError: False,
}

# What the two tables said before they were merged (aws/session.py, aws/appliers/errors.py):
# the merged table keeps every code of both, with the same meaning.
SESSION_TABLE = {
    aws_errors.ThrottledError: (
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "LimitExceededException",
        "SlowDown",
    ),
    aws_errors.AccessDeniedError: (
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
    ),
    aws_errors.CredentialsError: (
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
    ),
    aws_errors.ResourceNotFoundError: ("ResourceNotFoundException", "ResourceNotFound", "NotFound"),
    aws_errors.ResourceBusyError: ("ResourceConflictException", "ResourceInUseException"),
}
APPLIERS_TABLE = {
    change_errors.StaleChangeError: ("PreconditionFailedException",),
    change_errors.ResourceBusyError: ("ResourceConflictException", "ResourceInUseException"),
    change_errors.ResourceMissingError: (
        "ResourceNotFoundException",
        "ProvisionedConcurrencyConfigNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NoSuchEntity",
    ),
    change_errors.AccessDeniedError: (
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "KMSAccessDeniedException",
    ),
    change_errors.CredentialsMissingError: (
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    ),
    change_errors.ThrottledError: (
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
    ),
}
# Codes no table knows, with the HTTP status AWS sends them with.
UNKNOWN_CODES = {
    "ValidationException": 400,
    "InvalidParameterValueException": 400,
    "ServiceException": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
}
HELPERS = {
    aws_errors.ThrottledError: is_throttling,
    aws_errors.ResourceBusyError: is_busy,
    aws_errors.AccessDeniedError: is_access_denied,
    aws_errors.CredentialsError: is_credentials_error,
    aws_errors.ResourceNotFoundError: is_not_found,
    aws_errors.ResourceChangedError: is_stale,
}
ALL_CODES = sorted({*ERROR_CODES, *UNKNOWN_CODES})


def client_error(code: str, status: int | None = 400, message: str = "details") -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, "GetFunction")


def test_every_kind_in_the_table_has_a_decided_retryable_flag() -> None:
    assert set(ERROR_CODES.values()) == set(RETRYABLE)


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_each_code_gives_its_class_and_retryable_flag(code: str) -> None:
    kind = ERROR_CODES[code]
    # The code decides, not the status: throttling sent as a 400 is still worth retrying.
    for status in (400, None):
        error = translate(client_error(code, status), "read the function")
        assert type(error) is kind
        assert error.retryable is RETRYABLE[kind]
        assert error.code == code
        assert str(error).endswith(".")


@pytest.mark.parametrize(
    ("table", "kind", "code"),
    [
        (name, kind, code)
        for name, table in (("session", SESSION_TABLE), ("appliers", APPLIERS_TABLE))
        for kind, codes in table.items()
        for code in codes
    ],
)
def test_the_merged_table_keeps_both_old_tables(
    table: str, kind: type[Exception], code: str
) -> None:
    general = translate(client_error(code), "x")
    change = change_errors.translate_error(client_error(code), "x")
    assert isinstance(general if table == "session" else change, kind)


def test_no_code_is_in_two_groups() -> None:
    from aws.error_codes import _CODES_BY_ERROR

    listed = [code for codes in _CODES_BY_ERROR.values() for code in codes]
    assert len(listed) == len(set(listed)) == len(ERROR_CODES)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (403, False),
        (404, False),
        (409, False),
        (429, True),
        (500, True),
        (503, True),
        (None, True),
    ],
)
def test_a_code_the_table_does_not_know_is_retryable_by_its_status(
    status: int | None, retryable: bool
) -> None:
    error = translate(client_error("SomethingNew", status), "read the function")
    assert type(error) is aws_errors.AwsCallError
    assert error.retryable is retryable
    assert str(error) == "Could not read the function: details."


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (EndpointConnectionError(endpoint_url="https://lambda"), aws_errors.AwsCallError, True),
        (ConnectTimeoutError(endpoint_url="https://lambda"), aws_errors.AwsCallError, True),
        (ReadTimeoutError(endpoint_url="https://lambda"), aws_errors.AwsCallError, True),
        (ParamValidationError(report="bad"), aws_errors.AwsCallError, False),
        (WaiterError(name="w", reason="gave up", last_response={}), aws_errors.AwsCallError, False),
        (NoCredentialsError(), aws_errors.CredentialsError, False),
        (
            PartialCredentialsError(provider="env", cred_var="key"),
            aws_errors.CredentialsError,
            False,
        ),
        (NoRegionError(), aws_errors.ConfigurationError, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_botocores_own_errors(error: Exception, kind: type[Exception], retryable: bool) -> None:
    translated = translate(error, "list Lambda functions")
    assert type(translated) is kind
    assert translated.retryable is retryable
    assert change_errors.translate_error(error, "x").retryable is retryable


def test_an_aws_error_is_passed_through_with_its_flag() -> None:
    original = aws_errors.AwsCallError("Lambda refused the copy.", retryable=False)
    assert translate(original, "x") is original
    assert not is_retryable(original)
    assert classify(original) is aws_errors.AwsCallError


def test_function_given_turns_not_found_into_function_not_found() -> None:
    error = translate(client_error("ResourceNotFoundException"), "read it", function="checkout")
    assert isinstance(error, aws_errors.FunctionNotFoundError)
    assert isinstance(error, aws_errors.ResourceNotFoundError)
    assert not error.retryable


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize("status", [400, 500])
def test_helpers_and_every_translator_agree(code: str, status: int) -> None:
    """The predicates, the session's translator, the appliers' and the store's all read the
    one table, so they cannot disagree about a code."""
    error = client_error(code, UNKNOWN_CODES.get(code, status))
    general = translate(error, "x")
    session = translate_error(error, action="x")
    change = change_errors.translate_error(error, "x")
    for kind, helper in HELPERS.items():
        assert helper(error) is isinstance(general, kind), (code, kind)
        assert isinstance(session, kind) is isinstance(general, kind), (code, kind)
        assert isinstance(change, kind) is isinstance(general, kind), (code, kind)
    assert session.retryable is general.retryable is change.retryable is is_retryable(error)


@pytest.mark.parametrize(
    ("change_error", "general"),
    [
        (change_errors.ThrottledError, aws_errors.ThrottledError),
        (change_errors.ResourceBusyError, aws_errors.ResourceBusyError),
        (change_errors.AccessDeniedError, aws_errors.AccessDeniedError),
        (change_errors.CredentialsMissingError, aws_errors.CredentialsError),
        (change_errors.ResourceMissingError, aws_errors.ResourceNotFoundError),
        (change_errors.StaleChangeError, aws_errors.ResourceChangedError),
    ],
)
def test_change_errors_are_also_the_general_errors(
    change_error: type[change_errors.ChangeError], general: type[aws_errors.AwsError]
) -> None:
    raised = change_error("Could not update it.")
    assert isinstance(raised, change_errors.ChangeError)
    assert isinstance(raised, general)
    assert raised.retryable is RETRYABLE[general]


def test_a_change_error_from_an_unknown_code_keeps_the_status_flag() -> None:
    rejected = change_errors.translate_error(client_error("ValidationException", 400), "x")
    failing = change_errors.translate_error(client_error("ServiceException", 500), "x")
    assert type(rejected) is type(failing) is change_errors.ChangeError
    assert (rejected.retryable, failing.retryable) == (False, True)
    assert str(failing) == "Could not x: ServiceException: details."


def test_a_plain_change_error_is_not_retryable_unless_said() -> None:
    assert not change_errors.ChangeError("The update did not finish.").retryable
    assert change_errors.ChangeError("Lambda is busy.", retryable=True).retryable


def _code_lists_outside_the_table() -> list[str]:
    """Module-level ``*_CODES`` constants anywhere in ``aws`` but the table's module."""
    found = []
    root = Path(aws.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if path.name == "error_codes.py" and path.parent == root:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.endswith("_CODES"):
                    found.append(f"{path.relative_to(root)}: {target.id}")
    return found


def test_the_table_is_the_only_list_of_error_codes() -> None:
    assert _code_lists_outside_the_table() == []


def test_the_code_list_scanner_finds_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "aws"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "error_codes.py").write_text('THROTTLING_CODES = frozenset({"Throttling"})\n')
    (package / "other.py").write_text('MY_CODES: frozenset[str] = frozenset({"Throttling"})\n')
    monkeypatch.setattr(aws, "__file__", str(package / "__init__.py"))
    assert _code_lists_outside_the_table() == ["other.py: MY_CODES"]

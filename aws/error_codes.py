"""The one place botocore's errors are classified: which ``aws.errors`` class each becomes and
so whether it is retryable. Every module of ``aws`` translates through :func:`translate` (or
asks :func:`is_throttling` and its siblings, which read the same table); nothing else keeps a
list of error codes.

::

    try:
        client.get_function(FunctionName="checkout-api")
    except (ClientError, BotoCoreError) as error:
        raise translate(error, "read the function", function="checkout-api") from error

The table is the union of the lists that ``aws.session`` and ``aws.appliers.errors`` kept
before, where they disagreed (each had codes the other lacked, such as DynamoDB's
``ProvisionedThroughputExceededException`` or KMS's ``KMSAccessDeniedException``), plus the
throttling codes botocore's own retry logic treats as throttling. A code is in one group only
(a test checks), and each group's class says whether it is retryable.

A code the table does not know becomes :class:`AwsCallError`, retryable unless AWS rejected
the request itself (a 4xx answer other than 429).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from aws.errors import (
    AccessDeniedError,
    AwsCallError,
    AwsError,
    ConfigurationError,
    CredentialsError,
    FunctionNotFoundError,
    ResourceBusyError,
    ResourceChangedError,
    ResourceNotFoundError,
    ThrottledError,
)

_CODES_BY_ERROR: Mapping[type[AwsError], tuple[str, ...]] = {
    # Retryable. botocore's standard retry mode counts all of these as throttling.
    ThrottledError: (
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
        "SlowDown",
    ),
    # Retryable: Lambda refuses a call while an earlier update of the function (or mapping) is
    # still being applied. Nothing was done, and the same call succeeds once that update is
    # over; it never means "stale".
    ResourceBusyError: ("ResourceConflictException", "ResourceInUseException"),
    AccessDeniedError: (
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
        "KMSAccessDeniedException",
    ),
    CredentialsError: (
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
    ),
    ResourceNotFoundError: (
        "ResourceNotFoundException",
        "ResourceNotFound",
        "NotFound",
        "ProvisionedConcurrencyConfigNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NoSuchEntity",
    ),
    # The RevisionId sent with an update no longer matches: read again before deciding.
    ResourceChangedError: ("PreconditionFailedException",),
}

# The one table: AWS error code -> the error it is translated into.
ERROR_CODES: Mapping[str, type[AwsError]] = MappingProxyType(
    {code: kind for kind, codes in _CODES_BY_ERROR.items() for code in codes}
)

# botocore's own exceptions (no answer from AWS, or none that could be used), in order.
_EXCEPTION_ERRORS: tuple[tuple[type[BaseException], type[AwsError]], ...] = (
    (NoCredentialsError, CredentialsError),
    (PartialCredentialsError, CredentialsError),
    (NoRegionError, ConfigurationError),
)
# No connection, a timeout or a broken answer: the request may well pass next time.
_TRANSIENT_EXCEPTIONS: tuple[type[BaseException], ...] = (ConnectionError, HTTPClientError)
TOO_MANY_REQUESTS = 429

# Not a kind of failure but a different question, asked by the inventory of an emulator: does
# the endpoint implement the operation at all? AWS's own codes for an unknown action, and the
# bare HTTP status an emulator's web server (or a proxy) puts where an AWS error code goes.
UNSUPPORTED_OPERATION_CODES = frozenset(
    {"InvalidAction", "UnknownOperationException", "NotImplemented", "404", "500", "501"}
)


def codes_of(kind: type[AwsError]) -> frozenset[str]:
    """The codes the table translates into ``kind`` or one of its subclasses."""
    return frozenset(code for code, error in ERROR_CODES.items() if issubclass(error, kind))


THROTTLING_CODES = codes_of(ThrottledError)
BUSY_CODES = codes_of(ResourceBusyError)


def error_code(error: BaseException) -> str:
    """AWS's error code of a ``ClientError`` (``""`` for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def http_status(error: BaseException) -> int | None:
    """The HTTP status AWS answered with, or None when there was no answer."""
    if not isinstance(error, ClientError):
        return None
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status else None


def classify(error: BaseException) -> type[AwsError]:
    """The ``aws.errors`` class ``error`` is translated into (its own class if it is one)."""
    if isinstance(error, AwsError):
        return type(error)
    for botocore_error, kind in _EXCEPTION_ERRORS:
        if isinstance(error, botocore_error):
            return kind
    return ERROR_CODES.get(error_code(error), AwsCallError)


def is_retryable(error: BaseException) -> bool:
    """Whether the same call may succeed later: what ``translate(error, ...).retryable`` says."""
    if isinstance(error, AwsError):
        return error.retryable
    kind = classify(error)
    if kind is not AwsCallError:
        return kind.retryable
    if isinstance(error, ClientError):
        status = http_status(error)
        # No status known: nothing says AWS refused the request itself.
        return status is None or status >= 500 or status == TOO_MANY_REQUESTS
    if isinstance(error, BotoCoreError):
        # Anything else botocore raises is about the request (parameters it would not send, a
        # waiter that gave up): sending it again does the same.
        return isinstance(error, _TRANSIENT_EXCEPTIONS)
    return True


def is_throttling(error: BaseException) -> bool:
    return issubclass(classify(error), ThrottledError)


def is_access_denied(error: BaseException) -> bool:
    return issubclass(classify(error), AccessDeniedError)


def is_credentials_error(error: BaseException) -> bool:
    return issubclass(classify(error), CredentialsError)


def is_not_found(error: BaseException) -> bool:
    return issubclass(classify(error), ResourceNotFoundError)


def is_busy(error: BaseException) -> bool:
    return issubclass(classify(error), ResourceBusyError)


def is_stale(error: BaseException) -> bool:
    return issubclass(classify(error), ResourceChangedError)


def is_unsupported_operation(error: BaseException) -> bool:
    """The endpoint does not implement the operation (moto raises NotImplementedError
    in-process and answers 500 as a server), as opposed to refusing this request."""
    return isinstance(error, NotImplementedError) or error_code(error) in (
        UNSUPPORTED_OPERATION_CODES
    )


def aws_message(error: BaseException) -> str:
    """AWS's message of a ``ClientError`` as one short sentence without its final stop;
    ``""`` when there is none, or it is an HTML error page (a proxy, an emulator)."""
    if not isinstance(error, ClientError):
        return ""
    text = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
    if text.startswith("<"):
        return ""
    return text[:200].rstrip(".")


def translate(
    error: BaseException,
    doing: str,
    *,
    function: str | None = None,
    region: str | None = None,
) -> AwsError:
    """One sentence for the user about a failed call; ``doing`` completes "Could not ...",
    e.g. "read the function". The caller chains ``error`` so logs keep the detail. The class
    comes from the table (:func:`classify`) and ``retryable`` from :func:`is_retryable`."""
    if isinstance(error, AwsError):
        return error
    kind = classify(error)
    code = error_code(error)
    retryable = is_retryable(error)
    message = aws_message(error)
    where = f" in {region}" if region else ""
    if issubclass(kind, CredentialsError):
        if code:
            sentence = (
                f"AWS rejected the credentials ({code}) while trying to {doing}; refresh them."
            )
        else:
            sentence = (
                "No AWS credentials found: configure a profile, environment variables or a role "
                f"before tunebot can {doing}."
            )
    elif kind is ConfigurationError:
        sentence = "No AWS region is set: pass --region or set AWS_REGION."
    elif issubclass(kind, AccessDeniedError):
        sentence = f"Access denied: the credentials may not {doing}{where} ({message or code})."
    elif issubclass(kind, ResourceNotFoundError) and function:
        kind = FunctionNotFoundError
        sentence = f"Function '{function}' was not found{where}."
    elif issubclass(kind, ThrottledError):
        sentence = f"AWS kept throttling the request to {doing}; try again later."
    elif issubclass(kind, ResourceBusyError):
        subject = f"{function} is" if function else "the function is"
        sentence = f"Could not {doing}: {subject} being updated; try again in a minute."
    elif isinstance(error, EndpointConnectionError):
        sentence = f"Could not reach AWS to {doing}: {error}."
    elif isinstance(error, ClientError):
        sentence = f"Could not {doing}{where}: {message or code}."
    elif isinstance(error, BotoCoreError):
        sentence = f"Could not {doing}{where}: {error}."
    else:
        sentence = f"Could not {doing}{where}: {type(error).__name__}."
    return kind(sentence, retryable=retryable, code=code)

"""Errors of applying a change, and the translation of AWS errors into one sentence each.

Every error here is an :class:`aws.errors.AwsError`; the original ``ClientError`` stays
chained (``raise ... from``) so logs keep the request id and the AWS message.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from aws import errors as aws_errors
from aws.errors import AwsError
from service.errors import ChangeFailed, StaleChange


class ChangeError(AwsError, ChangeFailed):
    """A change could not be applied; nothing was changed unless the message says so."""

    retryable: bool = False


class StaleChangeError(ChangeError, StaleChange):
    """The resource no longer matches the change's ``before``; nothing was changed."""


class ChangeNotPossibleError(ChangeError):
    """The change cannot be applied to this resource at all (for example a container image)."""


class ResourceMissingError(ChangeError):
    """The function, mapping or queue does not exist (any more)."""


class AccessDeniedError(ChangeError, aws_errors.AccessDeniedError):
    """The credentials in use may not perform the call."""


class CredentialsMissingError(ChangeError, aws_errors.CredentialsError):
    """No usable AWS credentials were found, or AWS rejected them."""


class ThrottledError(ChangeError, aws_errors.ThrottledError):
    """AWS throttled the call; trying again later is safe."""

    retryable = True


class ResourceBusyError(ChangeError, aws_errors.ResourceBusyError):
    """An update of the resource is still in progress; trying again shortly is safe."""

    retryable = True


class ChangeVerificationError(ChangeError):
    """AWS accepted the update but reading it back shows a different value."""


# PreconditionFailedException: the RevisionId sent with the update no longer matches.
_STALE_CODES = frozenset({"PreconditionFailedException"})
# Not stale: Lambda refuses a call while an earlier update of the function (or mapping) is still
# being applied. The call changed nothing and succeeds once that update is done, so appliers
# retry it (``ApplyContext.call``) before saying so.
BUSY_CODES = frozenset({"ResourceConflictException", "ResourceInUseException"})
_NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "ProvisionedConcurrencyConfigNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NoSuchEntity",
    }
)
_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "KMSAccessDeniedException"}
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate_error(error: Exception, doing: str) -> ChangeError:
    """One sentence for a failed AWS call. ``doing`` completes "Could not ...", e.g.
    "update the memory of checkout-api"."""
    if isinstance(error, NoCredentialsError):
        return CredentialsMissingError(
            f"Could not {doing}: no AWS credentials were found; "
            "configure a profile or environment credentials."
        )
    if isinstance(error, BotoCoreError):
        return ChangeError(f"Could not {doing}: {error}.")
    if not isinstance(error, ClientError):
        return ChangeError(f"Could not {doing}: {error}.")
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", "")).rstrip(".")
    if code in _STALE_CODES:
        return StaleChangeError(
            f"Could not {doing}: it was changed by someone else since tunebot read it; "
            "nothing was changed, re-run the analysis and try again."
        )
    if code in BUSY_CODES:
        what = "trigger" if code == "ResourceInUseException" else "function"
        return ResourceBusyError(
            f"Could not {doing}: the {what} is being updated; nothing was changed, try again "
            "in a minute."
        )
    if code in _NOT_FOUND_CODES:
        return ResourceMissingError(f"Could not {doing}: it does not exist ({message}).")
    if code in _DENIED_CODES:
        return AccessDeniedError(f"Could not {doing}: access denied ({message}).")
    if code in _CREDENTIAL_CODES:
        return CredentialsMissingError(
            f"Could not {doing}: AWS rejected the credentials ({message}); refresh them."
        )
    if code in _THROTTLE_CODES:
        return ThrottledError(f"Could not {doing}: AWS is throttling requests; try again shortly.")
    detail = f"{code}: {message}" if message else code
    return ChangeError(f"Could not {doing}: {detail}.")

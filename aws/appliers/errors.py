"""Errors of applying a change, and their sentences for a failed AWS call.

Every error here is an :class:`aws.errors.AwsError`; the original ``ClientError`` stays
chained (``raise ... from``) so logs keep the request id and the AWS message. Which error a
botocore error becomes, and whether it is retryable, comes from the one table in
``aws.error_codes``; only the wording ("nothing was changed") is the appliers' own.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, NoCredentialsError

from aws import errors as aws_errors
from aws.error_codes import aws_message, error_code, translate
from aws.errors import AwsError
from service.errors import ChangeFailed, StaleChange

__all__ = [
    "AccessDeniedError",
    "ChangeError",
    "ChangeNotPossibleError",
    "ChangeVerificationError",
    "CredentialsMissingError",
    "ResourceBusyError",
    "ResourceMissingError",
    "StaleChangeError",
    "ThrottledError",
    "error_code",
    "translate_error",
]


class ChangeError(AwsError, ChangeFailed):
    """A change could not be applied; nothing was changed unless the message says so."""


class StaleChangeError(ChangeError, aws_errors.ResourceChangedError, StaleChange):
    """The resource no longer matches the change's ``before``; nothing was changed."""


class ChangeNotPossibleError(ChangeError):
    """The change cannot be applied to this resource at all (for example a container image)."""


class ResourceMissingError(ChangeError, aws_errors.ResourceNotFoundError):
    """The function, mapping or queue does not exist (any more)."""


class AccessDeniedError(ChangeError, aws_errors.AccessDeniedError):
    """The credentials in use may not perform the call."""


class CredentialsMissingError(ChangeError, aws_errors.CredentialsError):
    """No usable AWS credentials were found, or AWS rejected them."""


class ThrottledError(ChangeError, aws_errors.ThrottledError):
    """AWS throttled the call; trying again later is safe."""


class ResourceBusyError(ChangeError, aws_errors.ResourceBusyError):
    """An update of the resource is still in progress; trying again shortly is safe."""


class ChangeVerificationError(ChangeError):
    """AWS accepted the update but reading it back shows a different value."""


# The general error the table gives -> the change error that says the same, first match wins.
_CHANGE_ERRORS: tuple[tuple[type[AwsError], type[ChangeError]], ...] = (
    (aws_errors.CredentialsError, CredentialsMissingError),
    (aws_errors.AccessDeniedError, AccessDeniedError),
    (aws_errors.ResourceNotFoundError, ResourceMissingError),
    (aws_errors.ThrottledError, ThrottledError),
    (aws_errors.ResourceBusyError, ResourceBusyError),
    (aws_errors.ResourceChangedError, StaleChangeError),
)


def change_error_class(general: type[AwsError]) -> type[ChangeError]:
    """The change error for the ``aws.errors`` class the table classified an error as."""
    for kind, change_error in _CHANGE_ERRORS:
        if issubclass(general, kind):
            return change_error
    return ChangeError


def translate_error(error: Exception, doing: str) -> ChangeError:
    """One sentence for a failed AWS call. ``doing`` completes "Could not ...", e.g.
    "update the memory of checkout-api". Class and ``retryable`` come from the table."""
    general = translate(error, doing)
    kind = change_error_class(type(general))
    code = error_code(error)
    message = aws_message(error)
    if not isinstance(error, ClientError):
        if isinstance(error, NoCredentialsError):
            sentence = (
                f"Could not {doing}: no AWS credentials were found; "
                "configure a profile or environment credentials."
            )
        else:
            sentence = f"Could not {doing}: {error}."
    elif kind is StaleChangeError:
        sentence = (
            f"Could not {doing}: it was changed by someone else since tunebot read it; "
            "nothing was changed, re-run the analysis and try again."
        )
    elif kind is ResourceBusyError:
        what = "trigger" if code == "ResourceInUseException" else "function"
        sentence = (
            f"Could not {doing}: the {what} is being updated; nothing was changed, try again "
            "in a minute."
        )
    elif kind is ResourceMissingError:
        sentence = f"Could not {doing}: it does not exist ({message})."
    elif kind is AccessDeniedError:
        sentence = f"Could not {doing}: access denied ({message})."
    elif kind is CredentialsMissingError:
        sentence = f"Could not {doing}: AWS rejected the credentials ({message}); refresh them."
    elif kind is ThrottledError:
        sentence = f"Could not {doing}: AWS is throttling requests; try again shortly."
    else:
        detail = f"{code}: {message}" if message else code
        sentence = f"Could not {doing}: {detail}."
    return kind(sentence, retryable=general.retryable, code=code)

"""Errors raised by the AWS layer. ``aws.error_codes.translate`` turns botocore's errors into
these, at the edge, with one sentence a user can act on; the original stays chained for the
logs.

Every error says whether it is worth trying again: ``error.retryable`` is True when the cause
was transient (throttling, AWS failing with a 5xx, no connection, an update still in progress),
so the same call may succeed later, and False when AWS refused the request for good (access
denied, not found, a 4xx rejection, bad credentials). Code above ``aws`` asks that attribute
instead of looking at botocore's errors.

This module imports nothing from botocore, so handlers can catch these errors cheaply.
"""

from __future__ import annotations

from service.errors import PortError


class AwsError(PortError):
    """Base for every error ``aws`` raises on purpose (a :class:`PortError` to the service).

    ``retryable`` defaults to the class's value; pass it to say otherwise for one error.
    ``code`` is AWS's error code when AWS answered with one (``""`` otherwise).
    """

    retryable: bool = False

    def __init__(self, message: str = "", *, retryable: bool | None = None, code: str = "") -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        self.code = code


class CredentialsError(AwsError):
    """No usable AWS credentials were found, or they were rejected."""


class AccessDeniedError(AwsError):
    """The credentials lack a permission tunebot needs."""


class ResourceNotFoundError(AwsError):
    """The function, table, queue, secret or other resource does not exist (any more)."""


class FunctionNotFoundError(ResourceNotFoundError):
    """The named Lambda function does not exist in that account and region."""


class ThrottledError(AwsError):
    """AWS kept throttling a call after every retry."""

    retryable = True


class ResourceBusyError(AwsError):
    """Lambda is still applying an earlier update (``ResourceConflictException``); trying again
    in a minute is safe, since the refused call changed nothing."""

    retryable = True


class ResourceChangedError(AwsError):
    """The resource changed since it was read (its revision no longer matches the one sent), so
    AWS refused the update and nothing was changed. Sending the same call again fails the same
    way: it has to be read (and decided) again."""


class AwsCallError(AwsError):
    """Any other failed AWS call, described in one sentence.

    Retryable unless AWS rejected the request itself (a 4xx answer): an error without an
    answer (no connection, a timeout) or AWS failing (a 5xx) may well pass next time.
    """

    retryable = True


class ConfigurationError(AwsError):
    """An AWS-related setting (such as TUNEBOT_ACCOUNTS) is malformed."""


class SecretError(AwsError):
    """A Secrets Manager secret could not be read, or is not the JSON object expected."""

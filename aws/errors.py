"""Errors raised by the AWS layer. ``ClientError`` is translated here, at the edge, into one
sentence a user can act on; the original stays chained for the logs."""

from service.errors import PortError


class AwsError(PortError):
    """Base for every error ``aws`` raises on purpose (a :class:`PortError` to the service)."""


class CredentialsError(AwsError):
    """No usable AWS credentials were found, or they were rejected."""


class AccessDeniedError(AwsError):
    """The credentials lack a permission tunebot needs."""


class FunctionNotFoundError(AwsError):
    """The named Lambda function does not exist in that account and region."""


class ThrottledError(AwsError):
    """AWS kept throttling a call after every retry."""


class ResourceBusyError(AwsError):
    """Lambda is still applying an earlier update (``ResourceConflictException``); trying again
    in a minute is safe, since the refused call changed nothing."""


class AwsCallError(AwsError):
    """Any other failed AWS call, described in one sentence."""


class ConfigurationError(AwsError):
    """An AWS-related setting (such as TUNEBOT_ACCOUNTS) is malformed."""

"""Errors raised by the AWS layer. ``ClientError`` is translated here, at the edge, into one
sentence a user can act on; the original stays chained for the logs."""


class AwsError(Exception):
    """Base for every error ``aws`` raises on purpose."""

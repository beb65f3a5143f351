"""Errors raised by the pure core. Messages are one sentence a user can act on."""


class RecommendationsError(Exception):
    """Base for every error ``recommendations`` raises on purpose."""


class SnapshotError(RecommendationsError):
    """A snapshot file or document is missing, unreadable or does not match the schema."""

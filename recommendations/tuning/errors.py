"""Errors of the tuning search. Messages are one sentence a user can act on."""

from recommendations.errors import RecommendationsError


class TuningError(RecommendationsError):
    """A tuning request, profile or saved state is invalid."""

"""Errors the service layer raises for the people using tunebot: each message is one sentence."""

from __future__ import annotations

from collections.abc import Sequence


class ServiceError(Exception):
    """Base for every error ``service`` raises on purpose: what was asked could not be done.

    ``retryable`` says whether the cause was transient (throttling, AWS failing, the store
    unreachable), so an event handler can let the platform retry instead of reporting it.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class FunctionNotFoundError(ServiceError):
    """The function named in ``/tune`` does not exist; carries the closest existing names."""

    def __init__(self, name: str, closest: Sequence[str] = ()) -> None:
        super().__init__(f"There is no Lambda function named {name}.")
        self.name = name
        self.closest = tuple(closest)


class PortError(Exception):
    """Base for what an adapter behind a port (:mod:`service.ports`, implemented by ``aws``)
    raises: one sentence, and whether trying again later may succeed.

    ``aws``'s own error classes derive from it, so the service catches one type without
    importing ``aws``.
    """

    retryable: bool = False


# ---- what the change adapters raise (applying, observing, the state store) ----------------


class ChangeFailed(PortError):
    """A change could not be applied, or its target not read; nothing was changed unless the
    message says so."""


class StaleChange(ChangeFailed):
    """The change's target no longer matches what the change was computed from (its
    ``before``, or the revision it was read at); nothing was changed."""


class StoreFailed(PortError):
    """The state store could not be read or written."""


class ClaimLost(StoreFailed):
    """A claim is no longer held by this attempt: its lease ran out and another attempt took
    it over."""

"""Errors raised by the Slack side."""

from __future__ import annotations

from collections.abc import Sequence


class BotError(Exception):
    """Base for every error ``bot`` raises on purpose."""


class ConfigurationError(BotError):
    """A bot setting (policy, apply mode, managed tag) is malformed; the message says which."""


class FunctionNotFoundError(BotError):
    """The function named in ``/tune`` does not exist; carries the closest existing names."""

    def __init__(self, name: str, closest: Sequence[str] = ()) -> None:
        super().__init__(f"There is no Lambda function named {name}.")
        self.name = name
        self.closest = tuple(closest)


class ServiceError(BotError):
    """The AWS side could not do what was asked; the message is one sentence for the user."""

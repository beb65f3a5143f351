"""Errors raised by the Slack side."""

from __future__ import annotations


class BotError(Exception):
    """Base for every error ``bot`` raises on purpose."""


class ConfigurationError(BotError):
    """A bot setting (policy, apply mode, managed tag) is malformed; the message says which."""

"""Errors raised by the Slack side."""


class BotError(Exception):
    """Base for every error ``bot`` raises on purpose."""

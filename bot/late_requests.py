"""Telling a user that their command or click reached tunebot too late to act on.

Lambda delivers the lazy part of a request asynchronously and sometimes late; past a limit
tunebot does not act on it (see ``handlers/slack_lazy.py``), and says so to the user who asked:
through the request's ``response_url`` while Slack still accepts it (30 minutes), else as an
ephemeral message in the channel. A request from the App Home has neither; the caller logs it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.rendering import clip, escape_mrkdwn, render_blocks
from bot.views import slack_date

logger = logging.getLogger(__name__)

# Slack accepts messages to a response_url for 30 minutes after the request.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)


def _what(body: dict[str, Any]) -> str:
    if body.get("command"):
        asked = f"{body.get('command')} {body.get('text') or ''}".strip()
        return f"Your `{escape_mrkdwn(clip(asked, 100))}`"
    actions = body.get("actions") or [{}]
    label = (actions[0].get("text") or {}).get("text") if isinstance(actions[0], dict) else None
    if isinstance(label, str) and label:
        return f"Your click on *{escape_mrkdwn(clip(label, 75))}*"
    return "Your request"


def late_text(body: dict[str, Any], asked_at: datetime, now: datetime) -> str:
    minutes = max(1, round((now - asked_at).total_seconds() / 60))
    return (
        f"{_what(body)} from {slack_date(asked_at)} reached tunebot {minutes} minutes late, so "
        "tunebot did not act on it and nothing was changed. Please try again."
    )


def _target(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, user) of a slash command or an interactivity payload."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = (
        body.get("channel_id")
        or (body.get("container") or {}).get("channel_id")
        or (body.get("channel") or {}).get("id")
    )
    return (
        channel if isinstance(channel, str) else None,
        user if isinstance(user, str) else None,
    )


def tell_too_late(
    client: WebClient, body: dict[str, Any], asked_at: datetime, now: datetime | None = None
) -> str | None:
    """Tell the user; returns how ("response_url" or "ephemeral"), or None when nothing reached
    them (no way to, or Slack refused)."""
    now = now or datetime.now(UTC)
    text = late_text(body, asked_at, now)
    blocks = render_blocks("notice.j2", text=text, icon=":hourglass:")
    response_url = body.get("response_url")
    alive = now - asked_at < RESPONSE_URL_LIFETIME
    if isinstance(response_url, str) and response_url and alive:
        try:
            sent = WebhookClient(response_url).send(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False
            )
            if sent.status_code == 200:
                return "response_url"
            logger.warning("the response_url answered %s", sent.status_code)
        except (URLError, OSError, ValueError) as error:
            logger.warning("could not use the response_url: %s", error)
    channel, user = _target(body)
    if channel and user:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return "ephemeral"
        except SlackApiError as error:
            logger.warning("chat.postEphemeral failed: %s", error)
        except (URLError, OSError) as error:
            logger.warning("could not reach Slack: %s", error)
    return None

"""Turns what a person does on the page into what Slack would send the bot, and back.

A slash command or a click becomes a signed Function URL event for the real
``handlers.slack.handler``; what the handler acknowledges with (ack text, modal errors) is
shown the way Slack shows it. The bot's own Web API calls reach the workspace directly
through the sandbox server, and its lazy listeners run in-process.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.lambda_context import LambdaContext
from sandbox.slack_requests import (
    FORM,
    JSON,
    app_home_opened_body,
    block_actions_payload,
    function_url_event,
    interaction_body,
    slash_command_body,
    view_closed_payload,
    view_submission_payload,
)
from sandbox.workspace import JsonDict, ResponseTarget, Workspace

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[JsonDict, Any], Any]
SLACK_FUNCTION_NAME = "tunebot-slack"


class BridgeError(Exception):
    """A page request that cannot be turned into a Slack request (unknown message, view...)."""


@dataclass(frozen=True)
class Delivery:
    """How the bot answered one request: its HTTP status and what the page should do."""

    status: int
    # One sentence the page shows when the bot refused or failed (non-2xx), else None.
    problem: str | None = None
    # Modal validation errors from a view_submission ack: block_id -> message.
    errors: dict[str, str] | None = None

    def as_json(self) -> JsonDict:
        return {"status": self.status, "problem": self.problem, "errors": self.errors}


def _response_body(response: Any) -> tuple[int, str]:
    if not isinstance(response, dict):
        return 500, ""
    body = response.get("body") or ""
    if response.get("isBase64Encoded") and body:
        body = base64.b64decode(body).decode()
    return int(response.get("statusCode", 200)), str(body)


def _parse_ack(body: str) -> JsonDict | None:
    """An ack is empty, plain text, or JSON (a message or a ``response_action``)."""
    if not body.strip():
        return None
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return {"text": body}
    return parsed if isinstance(parsed, dict) else {"text": body}


class SlackBridge:
    def __init__(
        self,
        workspace: Workspace,
        *,
        signing_secret: str,
        public_url: str,
        slack_handler: LambdaHandler,
    ) -> None:
        self._workspace = workspace
        self._signing_secret = signing_secret
        self._public_url = public_url.rstrip("/")
        self._handler = slack_handler

    # -- delivery -----------------------------------------------------------------------

    def _deliver(self, body: str, content_type: str) -> tuple[int, JsonDict | None]:
        event = function_url_event(body, content_type, self._signing_secret)
        try:
            response = self._handler(event, LambdaContext(function_name=SLACK_FUNCTION_NAME))
        except Exception:  # the page must say the bot failed, as Slack would ("dispatch_failed")
            logger.exception("the Slack handler raised")
            return 500, None
        status, text = _response_body(response)
        return status, _parse_ack(text)

    @staticmethod
    def _problem(status: int) -> str | None:
        if 200 <= status < 300:
            return None
        if status == 401:
            return "tunebot refused the request: its signature did not verify (HTTP 401)."
        return f"tunebot did not answer properly (HTTP {status}); see the terminal for details."

    def _response_url(self, target: ResponseTarget) -> str:
        token = self._workspace.new_response_url_token(target)
        return f"{self._public_url}/response/{token}"

    def _show_ack(self, ack: JsonDict | None, target: ResponseTarget) -> None:
        """Slack shows a message in an ack body like a ``response_url`` reply."""
        if ack and (ack.get("text") or ack.get("blocks")):
            token = self._workspace.new_response_url_token(target)
            self._workspace.respond(token, ack)

    # -- what the page can do ----------------------------------------------------------

    def slash_command(self, user_id: str, channel_id: str, command_line: str) -> Delivery:
        command, _, text = command_line.strip().partition(" ")
        if not command.startswith("/"):
            raise BridgeError("A command starts with a slash, for example /tune checkout-api.")
        user = self._workspace.user(user_id)
        channel = self._workspace.channel(channel_id)
        # Slack shows a slash command only to the person who typed it; so does the page.
        self._workspace.post_message(
            channel.id, command_line.strip(), user=user.id, ephemeral_to=user.id, kind="command"
        )
        target = ResponseTarget(channel=channel.id, user=user.id)
        body = slash_command_body(
            command=command,
            text=text.strip(),
            user_id=user.id,
            user_name=user.name,
            channel_id=channel.id,
            channel_name=channel.name,
            response_url=self._response_url(target),
            trigger_id=self._workspace.new_trigger(user.id),
        )
        status, ack = self._deliver(body, FORM)
        if 200 <= status < 300:
            self._show_ack(ack, target)
        return Delivery(status=status, problem=self._problem(status))

    def message_action(
        self, user_id: str, channel_id: str, message_ts: str, action: JsonDict
    ) -> Delivery:
        user = self._workspace.user(user_id)
        channel = self._workspace.channel(channel_id)
        message = self._workspace.find_message(channel.id, message_ts)
        if not message.visible_to(user.id):
            raise BridgeError("That message is not visible to the selected user.")
        target = ResponseTarget(
            channel=channel.id,
            user=user.id,
            message_ts=message.ts,
            ephemeral=message.ephemeral_to is not None,
        )
        payload = block_actions_payload(
            user_id=user.id,
            user_name=user.name,
            action=action,
            trigger_id=self._workspace.new_trigger(user.id),
            response_url=self._response_url(target),
            channel={"id": channel.id, "name": channel.name},
            message=message.as_json(),
        )
        status, _ = self._deliver(interaction_body(payload), FORM)
        return Delivery(status=status, problem=self._problem(status))

    def view_action(self, user_id: str, view_id: str, action: JsonDict) -> Delivery:
        user = self._workspace.user(user_id)
        view = self._workspace.find_view(view_id=view_id)
        if view.user != user.id:
            raise BridgeError("That view belongs to another user.")
        payload = block_actions_payload(
            user_id=user.id,
            user_name=user.name,
            action=action,
            trigger_id=self._workspace.new_trigger(user.id),
            response_url=None,
            view=view.as_json(),
        )
        status, _ = self._deliver(interaction_body(payload), FORM)
        return Delivery(status=status, problem=self._problem(status))

    def view_submission(self, user_id: str, view_id: str, values: JsonDict) -> Delivery:
        user = self._workspace.user(user_id)
        view = self._workspace.find_view(view_id=view_id)
        payload = view_submission_payload(
            user_id=user.id,
            user_name=user.name,
            view=view.as_json(),
            values=values,
            trigger_id=self._workspace.new_trigger(user.id),
        )
        status, ack = self._deliver(interaction_body(payload), FORM)
        if not 200 <= status < 300:
            return Delivery(status=status, problem=self._problem(status))
        action = (ack or {}).get("response_action")
        if action == "errors":
            return Delivery(status=status, errors=dict((ack or {}).get("errors") or {}))
        if action == "update":
            self._workspace.update_view((ack or {})["view"], view_id=view.id)
        elif action == "push":
            self._workspace.open_view(user.id, (ack or {})["view"], push=True)
        elif action == "clear":
            self._workspace.close_modals(user.id)
        else:
            self._workspace.close_modals(user.id, view.id)
        return Delivery(status=status)

    def view_closed(self, user_id: str, view_id: str) -> Delivery:
        user = self._workspace.user(user_id)
        view = self._workspace.find_view(view_id=view_id)
        self._workspace.close_modals(user.id, view.id)
        if not view.view.get("notify_on_close"):
            return Delivery(status=200)
        payload = view_closed_payload(user_id=user.id, user_name=user.name, view=view.as_json())
        status, _ = self._deliver(interaction_body(payload), FORM)
        return Delivery(status=status, problem=self._problem(status))

    def home_opened(self, user_id: str) -> Delivery:
        user = self._workspace.user(user_id)
        body = app_home_opened_body(user_id=user.id, channel_id="D0TUNEBOT1")
        status, _ = self._deliver(body, JSON)
        return Delivery(status=status, problem=self._problem(status))

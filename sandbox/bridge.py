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
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.block_kit import check_view
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
from sandbox.workspace import JsonDict, ResponseTarget, SlackApiError, Workspace

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[JsonDict, Any], Any]
SLACK_FUNCTION_NAME = "tunebot-slack"
# Slack waits this long for the HTTP acknowledgement, then gives up on it (and on its body).
ACK_DEADLINE_S = 3.0
# What Slack shows when the app did not acknowledge in time.
LATE_COMMAND = 'failed with the error "operation_timeout"'
LATE_INTERACTION = "This app took too long to respond."
LATE_SUBMISSION = "We had some trouble connecting. Try again?"


class AckTimeout(Exception):
    """The handler answered after Slack's deadline: Slack has already shown its error."""


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
        ack_deadline_s: float = ACK_DEADLINE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._workspace = workspace
        self._signing_secret = signing_secret
        self._public_url = public_url.rstrip("/")
        self._handler = slack_handler
        # Public so a test can make every ack late.
        self.ack_deadline_s = ack_deadline_s
        self._clock = clock

    # -- delivery -----------------------------------------------------------------------

    def _deliver(self, body: str, content_type: str) -> tuple[int, JsonDict | None]:
        """The handler's status and ack body; raises AckTimeout when it answered too late
        (Slack drops such an ack, body and all, whatever the handler did meanwhile)."""
        event = function_url_event(body, content_type, self._signing_secret)
        started = self._clock()
        try:
            response = self._handler(event, LambdaContext(function_name=SLACK_FUNCTION_NAME))
        except Exception:  # the page must say the bot failed, as Slack would ("dispatch_failed")
            logger.exception("the Slack handler raised")
            return 500, None
        elapsed = self._clock() - started
        if elapsed > self.ack_deadline_s:
            logger.warning(
                "tunebot acknowledged after %.1f s; Slack gives up after %.0f s",
                elapsed,
                self.ack_deadline_s,
            )
            raise AckTimeout
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

    def _show_ack(self, ack: JsonDict | None, target: ResponseTarget) -> str | None:
        """Slack shows a message in an ack body like a ``response_url`` reply; returns the
        problem to show when Slack would refuse it."""
        if ack and (ack.get("text") or ack.get("blocks")):
            token = self._workspace.new_response_url_token(target)
            try:
                self._workspace.respond(token, ack)
            except SlackApiError as error:
                return f"Slack refused tunebot's reply: {error.code}."
        return None

    def _late(self, target: ResponseTarget, command: str) -> Delivery:
        """A slash command acknowledged too late: Slack tells only the person who typed it."""
        self._workspace.post_message(
            target.channel,
            f"{command} {LATE_COMMAND}",
            user=target.user,
            ephemeral_to=target.user,
            kind="error",
        )
        return Delivery(status=200)

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
        try:
            status, ack = self._deliver(body, FORM)
        except AckTimeout:
            return self._late(target, command)
        problem = self._problem(status)
        if 200 <= status < 300:
            problem = self._show_ack(ack, target)
        return Delivery(status=status, problem=problem)

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
        return self._interaction(interaction_body(payload))

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
        return self._interaction(interaction_body(payload))

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
        try:
            status, ack = self._deliver(interaction_body(payload), FORM)
        except AckTimeout:  # the modal stays open with Slack's error at the top
            return Delivery(status=200, problem=LATE_SUBMISSION)
        if not 200 <= status < 300:
            return Delivery(status=status, problem=self._problem(status))
        action = (ack or {}).get("response_action")
        if action == "errors":
            return Delivery(status=status, errors=dict((ack or {}).get("errors") or {}))
        if action in ("update", "push"):
            try:
                check_view((ack or {}).get("view"), expected_type="modal")
            except SlackApiError as error:  # Slack keeps the modal as it was
                return Delivery(status=status, problem=f"Slack refused the view: {error.code}.")
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
        return self._interaction(interaction_body(payload))

    def home_opened(self, user_id: str) -> Delivery:
        user = self._workspace.user(user_id)
        body = app_home_opened_body(user_id=user.id, channel_id="D0TUNEBOT1")
        try:
            status, _ = self._deliver(body, JSON)
        except AckTimeout:  # Slack retries a late event; the page only says so
            return Delivery(status=200, problem=LATE_INTERACTION)
        return Delivery(status=status, problem=self._problem(status))

    def _interaction(self, body: str) -> Delivery:
        try:
            status, _ = self._deliver(body, FORM)
        except AckTimeout:  # Slack marks the click with a warning the user sees
            return Delivery(status=200, problem=LATE_INTERACTION)
        return Delivery(status=status, problem=self._problem(status))

"""Which signed Slack bodies are of a shape tunebot can read, checked before Bolt sees them.

Bolt parses a body and indexes the result unchecked while building its request (user, team,
channel, the first action, the view's type, ...), then our listeners index it again. A body of
another shape would raise in there and answer 500. Slack's own payloads always have these
shapes; anything else gets a 400 with the reason this module gives.

The body is parsed exactly as Bolt parses it (``slack_bolt.request.internals.parse_body``): JSON
when the content type says so or the body starts with ``{``, else form fields, with a
``payload`` field read as JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

# Slack's payloads nest a few levels (rich text in message blocks about ten); far deeper ones
# are not Slack's, and would overflow the recursion of the copies Bolt makes for lazy work.
MAX_DEPTH = 40

# Parts Bolt reads ids from: an id string, or an object with an ``id``.
_REFERENCES = ("user", "team", "channel", "enterprise")
# Fields that are strings (or absent/null) wherever they appear in the parts read below.
_STRINGS = (
    "type",
    "subtype",
    "user_id",
    "team_id",
    "channel_id",
    "enterprise_id",
    "user_team",
    "thread_ts",
    "ts",
    "channel_type",
    "bot_id",
    "tab",
    "callback_id",
    "trigger_id",
    "response_url",
    "action_id",
    "function_execution_id",
    "bot_access_token",
    "api_app_id",
    "token",
    "text",
)
_REFERENCE_STRINGS = ("id", "team_id", "enterprise_id", "name")
_VIEW_STRINGS = (
    "id",
    "type",
    "callback_id",
    "private_metadata",
    "external_id",
    "hash",
    "team_id",
    "app_installed_team_id",
    "root_view_id",
    "previous_view_id",
)
_CONTAINER_STRINGS = ("type", "channel_id", "message_ts", "view_id", "thread_ts")
_ACTION_STRINGS = ("action_id", "block_id", "value", "type", "action_ts", "name")
# Parts of a payload or event that Bolt reads ids from, each an object when present.
_NESTED = ("message", "previous_message", "item", "assistant_thread", "function_data")
# Interactivity payloads: Slack always sends the acting user as an object.
_INTERACTIVE = (
    "block_actions",
    "block_suggestion",
    "interactive_message",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "dialog_submission",
    "dialog_cancellation",
    "dialog_suggestion",
    "workflow_step_edit",
)


class _Refused(Exception):
    """The body's first problem, as one sentence."""


def parse_like_bolt(body: str, content_type: str | None) -> Any:
    """The value Bolt's ``parse_body`` makes of ``body``; raises ValueError or RecursionError
    where Bolt would raise too."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        return json.loads(body)
    if "payload" in body:
        payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload")
        return json.loads(payload) if payload is not None else {}
    return dict(parse_qsl(body, keep_blank_values=True))


def body_problem(body: str, content_type: str | None) -> str | None:
    """Why tunebot cannot read this signed body (one sentence), or None when it can."""
    try:
        parsed = parse_like_bolt(body, content_type)
    except RecursionError:
        return "The body is nested too deeply."
    except ValueError:
        return "The body is not valid JSON."
    try:
        _check(parsed)
    except _Refused as refused:
        return str(refused)
    return None


def parsed_body(body: str, content_type: str | None) -> dict[str, Any]:
    """The body as Bolt reads it, for a body :func:`body_problem` accepted."""
    parsed = parse_like_bolt(body, content_type)
    return parsed if isinstance(parsed, dict) else {}


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` levels (without recursing ourselves)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _object(value: Any, where: str, *, nullable: bool = True) -> dict[str, Any]:
    if value is None and nullable:
        return {}
    if not isinstance(value, dict):
        raise _Refused(f"{where} is not an object.")
    return value


def _strings(part: dict[str, Any], where: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        value = part.get(key)
        if value is not None and not isinstance(value, str):
            raise _Refused(f"{where}.{key} is not a string.")


def _objects(value: Any, where: str, *, required: bool = False) -> list[dict[str, Any]]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise _Refused(f"{where} is not a list of objects." if value else f"{where} is empty.")
    for index, item in enumerate(value):
        _object(item, f"{where}[{index}]", nullable=False)
    return value


def _addressed(part: dict[str, Any], where: str) -> None:
    """A part Bolt reads user, team, channel and enterprise ids from."""
    _strings(part, where, _STRINGS)
    for key in _REFERENCES:
        value = part.get(key)
        if value is None or isinstance(value, str):
            continue
        _strings(_object(value, f"{where}.{key}"), f"{where}.{key}", _REFERENCE_STRINGS)


def _check(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise _Refused("The payload is not a JSON object.")
    if _too_deep(payload):
        raise _Refused("The body is nested too deeply.")
    _addressed(payload, "payload")
    kind = payload.get("type")
    parts = [("payload", payload)]
    if "event" in payload:
        # Bolt reads ``payload.get("event", {})`` and would index a null event.
        event = _object(payload["event"], "event", nullable=False)
        _addressed(event, "event")
        parts.append(("event", event))
    for where, part in parts:
        for key in _NESTED:
            nested = _object(part.get(key), f"{where}.{key}")
            _addressed(nested, f"{where}.{key}")
    authorizations = _objects(payload.get("authorizations"), "authorizations")
    for index, authorization in enumerate(authorizations):
        _addressed(authorization, f"authorizations[{index}]")
    for index, item in enumerate(_objects(payload.get("response_urls"), "response_urls")):
        _strings(item, f"response_urls[{index}]", ("response_url",))
    _strings(_object(payload.get("container"), "container"), "container", _CONTAINER_STRINGS)
    view = _object(payload.get("view"), "view")
    _strings(view, "view", _VIEW_STRINGS)
    message = _object(payload.get("message"), "message")
    for index, block in enumerate(_objects(message.get("blocks"), "message.blocks")):
        _strings(block, f"message.blocks[{index}]", ("block_id", "type"))
    if kind in _INTERACTIVE:
        user = _object(payload.get("user"), "user", nullable=False)
        if not isinstance(user.get("id"), str):
            raise _Refused("user.id is not a string.")
    _check_actions(payload, kind)
    # Bolt reads the type of every view that is submitted or closed.
    viewed = kind in ("view_submission", "view_closed") and "callback_id" in view
    if viewed and not isinstance(view.get("type"), str):
        raise _Refused("view.type is not a string.")
    workflow_step = (kind == "workflow_step_edit" and "callback_id" in payload) or (
        kind == "view_submission" and view.get("type") == "workflow_step"
    )
    if workflow_step:
        _object(payload.get("workflow_step"), "workflow_step", nullable=False)


def _check_actions(payload: dict[str, Any], kind: Any) -> None:
    # Bolt takes ``actions[0]`` of every block_actions payload and of attachment actions.
    required = kind == "block_actions" or (
        kind == "interactive_message" and "callback_id" in payload
    )
    if not required and "actions" not in payload:
        return
    actions = _objects(payload.get("actions"), "actions", required=required)
    for index, action in enumerate(actions):
        _strings(action, f"actions[{index}]", _ACTION_STRINGS)
        if kind == "block_actions" and not isinstance(action.get("action_id"), str):
            raise _Refused(f"actions[{index}].action_id is not a string.")

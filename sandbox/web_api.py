"""The Slack Web API methods the bot calls, answered from the in-memory workspace.

Replies have the shape Slack documents for each method (only the fields the bot and
``slack_sdk`` read), so the real ``WebClient`` works unchanged against the sandbox.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sandbox.block_kit import check_message_blocks, check_view
from sandbox.workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    JsonDict,
    SlackApiError,
    Workspace,
)

logger = logging.getLogger(__name__)

Method = Callable[[Workspace, JsonDict], JsonDict]


def _decoded(value: Any) -> Any:
    """slack_sdk sends blocks and views as JSON strings in form bodies, as objects in JSON."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _required(args: JsonDict, name: str) -> Any:
    value = args.get(name)
    if value in (None, ""):
        raise SlackApiError(f"missing_argument:{name}")
    return value


def _message_json(workspace: Workspace, channel: str, ts: str) -> JsonDict:
    message = workspace.find_message(channel, ts)
    return {
        "type": "message",
        "user": message.user,
        "bot_id": BOT_ID if message.user == BOT_USER_ID else None,
        "text": message.text,
        "blocks": message.blocks,
        "ts": message.ts,
        "thread_ts": message.thread_ts,
    }


def auth_test(workspace: Workspace, args: JsonDict) -> JsonDict:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": "tunebot sandbox",
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "is_enterprise_install": False,
    }


def chat_post_message(workspace: Workspace, args: JsonDict) -> JsonDict:
    channel = str(_required(args, "channel"))
    blocks = _decoded(args.get("blocks"))
    text = str(args.get("text") or "")
    if not text and not blocks:
        raise SlackApiError("no_text")
    check_message_blocks(blocks)
    message = workspace.post_message(channel, text, blocks, thread_ts=args.get("thread_ts") or None)
    return {
        "channel": message.channel,
        "ts": message.ts,
        "message": _message_json(workspace, message.channel, message.ts),
    }


def chat_update(workspace: Workspace, args: JsonDict) -> JsonDict:
    channel = str(_required(args, "channel"))
    ts = str(_required(args, "ts"))
    blocks = _decoded(args.get("blocks"))
    check_message_blocks(blocks)
    text = args.get("text")
    message = workspace.update_message(channel, ts, None if text is None else str(text), blocks)
    return {
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": _message_json(workspace, message.channel, message.ts),
    }


def chat_delete(workspace: Workspace, args: JsonDict) -> JsonDict:
    channel = str(_required(args, "channel"))
    ts = str(_required(args, "ts"))
    workspace.delete_message(channel, ts)
    return {"channel": workspace.channel(channel).id, "ts": ts}


def chat_post_ephemeral(workspace: Workspace, args: JsonDict) -> JsonDict:
    channel = str(_required(args, "channel"))
    user = str(_required(args, "user"))
    workspace.user(user)
    blocks = _decoded(args.get("blocks"))
    check_message_blocks(blocks)
    message = workspace.post_message(
        channel,
        str(args.get("text") or ""),
        blocks,
        thread_ts=args.get("thread_ts") or None,
        ephemeral_to=user,
    )
    return {"message_ts": message.ts}


def chat_get_permalink(workspace: Workspace, args: JsonDict) -> JsonDict:
    channel = workspace.channel(str(_required(args, "channel")))
    ts = str(_required(args, "message_ts"))
    workspace.find_message(channel.id, ts)
    ts_digits = ts.replace(".", "")
    return {
        "channel": channel.id,
        "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{ts_digits}",
    }


def views_open(workspace: Workspace, args: JsonDict) -> JsonDict:
    _required(args, "trigger_id")
    view = _decoded(_required(args, "view"))
    check_view(view, expected_type="modal")
    user = workspace.user_for_trigger(str(args["trigger_id"]))
    return {"view": workspace.open_view(user, view).as_json()}


def views_push(workspace: Workspace, args: JsonDict) -> JsonDict:
    _required(args, "trigger_id")
    view = _decoded(_required(args, "view"))
    check_view(view, expected_type="modal")
    user = workspace.user_for_trigger(str(args["trigger_id"]))
    return {"view": workspace.open_view(user, view, push=True).as_json()}


def views_update(workspace: Workspace, args: JsonDict) -> JsonDict:
    view = _decoded(_required(args, "view"))
    view_id = args.get("view_id") or None
    external_id = args.get("external_id") or None
    if not view_id and not external_id:
        raise SlackApiError("missing_argument:view_id")
    check_view(view)
    return {"view": workspace.update_view(view, view_id, external_id).as_json()}


def views_publish(workspace: Workspace, args: JsonDict) -> JsonDict:
    user = str(_required(args, "user_id"))
    view = _decoded(_required(args, "view"))
    check_view(view, expected_type="home")
    return {"view": workspace.publish_home(user, view).as_json()}


def users_info(workspace: Workspace, args: JsonDict) -> JsonDict:
    person = workspace.user(str(_required(args, "user")))
    return {
        "user": {
            "id": person.id,
            "team_id": TEAM_ID,
            "name": person.name,
            "real_name": person.real_name,
            "tz": "Europe/London",
            "is_bot": False,
            "profile": {"real_name": person.real_name, "display_name": person.name},
        }
    }


def usergroups_users_list(workspace: Workspace, args: JsonDict) -> JsonDict:
    group = str(_required(args, "usergroup"))
    if group not in workspace.usergroups:
        raise SlackApiError("no_such_subteam")
    return {"users": list(workspace.usergroups[group])}


def conversations_info(workspace: Workspace, args: JsonDict) -> JsonDict:
    channel = workspace.channel(str(_required(args, "channel")))
    return {"channel": {"id": channel.id, "name": channel.name, "is_channel": True}}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "users.info": users_info,
    "usergroups.users.list": usergroups_users_list,
    "conversations.info": conversations_info,
}


def call(
    workspace: Workspace, method: str, args: JsonDict, token: str | None, bot_token: str
) -> JsonDict:
    """One Web API call: Slack's ``{"ok": ...}`` envelope around the method's reply."""
    if token != bot_token:
        return {"ok": False, "error": "invalid_auth"}
    handler = METHODS.get(method)
    if handler is None:
        logger.warning("the sandbox does not implement Slack's %s", method)
        return {"ok": False, "error": "unknown_method"}
    workspace.record_call(method, args)
    try:
        return {"ok": True, **handler(workspace, args)}
    except SlackApiError as error:
        reply: JsonDict = {"ok": False, "error": error.code}
        if error.messages:
            reply["response_metadata"] = {"messages": list(error.messages)}
        return reply

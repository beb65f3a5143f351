"""What Slack would send the bot, as Lambda Function URL events signed with the demo secret.

Slack signs ``v0:{timestamp}:{body}`` with HMAC-SHA256 over the signing secret; the bot checks
it exactly as in production, so a wrong secret here gets the same 401 a forged request would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from sandbox.workspace import APP_ID, TEAM_DOMAIN, TEAM_ID, JsonDict

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature(signing_secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def function_url_event(
    body: str, content_type: str, signing_secret: str, *, now: float | None = None
) -> JsonDict:
    """A Lambda Function URL (payload format 2.0) event carrying a signed Slack request."""
    timestamp = str(int(now if now is not None else time.time()))
    request_id = str(uuid.uuid4())
    headers = {
        "content-type": content_type,
        "host": "sandbox.lambda-url.us-east-1.on.aws",
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature(signing_secret, timestamp, body),
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "sandbox",
            "domainName": headers["host"],
            "domainPrefix": "sandbox",
            "http": {
                "method": "POST",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers["user-agent"],
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
    }


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str,
) -> str:
    """The form body Slack posts for a slash command (fields as in Slack's docs)."""
    return urlencode(
        {
            "token": "sandbox-verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def _user(user_id: str, user_name: str) -> JsonDict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID}


def interaction_body(payload: JsonDict) -> str:
    """Interactions arrive as a form with one field, ``payload``, holding JSON."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def block_actions_payload(
    *,
    user_id: str,
    user_name: str,
    action: JsonDict,
    trigger_id: str,
    response_url: str | None,
    channel: JsonDict | None = None,
    message: JsonDict | None = None,
    view: JsonDict | None = None,
) -> JsonDict:
    """A ``block_actions`` payload for a click in a message, a modal or the home tab."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name),
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
    }
    if message is not None and channel is not None:
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel["id"],
            "is_ephemeral": bool(message.get("ephemeral")),
        }
        payload["channel"] = channel
        payload["message"] = {key: message[key] for key in ("ts", "text", "blocks", "user")}
        payload["message"]["type"] = "message"
        payload["response_url"] = response_url
        payload["state"] = {"values": {}}
    elif view is not None:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
    return payload


def view_submission_payload(
    *, user_id: str, user_name: str, view: JsonDict, values: JsonDict, trigger_id: str
) -> JsonDict:
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name),
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "trigger_id": trigger_id,
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed_payload(*, user_id: str, user_name: str, view: JsonDict) -> JsonDict:
    return {
        "type": "view_closed",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name),
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "view": view,
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def app_home_opened_body(*, user_id: str, channel_id: str) -> str:
    """An Events API ``event_callback`` for ``app_home_opened`` (JSON body)."""
    event = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    envelope = {
        "token": "sandbox-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:12].upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": "U0TUNEBOT1",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope, separators=(",", ":"))

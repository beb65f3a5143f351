"""A small stand-in for Slack's Web API and response URLs, on 127.0.0.1 and a free port.

It records every call so tests can assert what the bot sent, answers like Slack does for the
methods the bot uses, and can be told to fail a method with a Slack error. Test-only: it is not
part of the Lambda package.

Use ``api_url`` as ``SLACK_API_URL`` (``WebClient(base_url=...)``) and ``response_url(name)`` as
the ``response_url`` of signed payloads.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[SlackCall] = field(default_factory=list)
    # usergroup id -> member user ids, for usergroups.users.list
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # method -> Slack error code, returned once (the next call succeeds again)
    fail_next: dict[str, str] = field(default_factory=dict)
    # methods answered once with HTTP 429 and ``Retry-After: 0``, as Slack rate-limits
    rate_limit_next: set[str] = field(default_factory=set)
    # methods answered once with HTTP 500, as Slack does when it fails
    server_error_next: set[str] = field(default_factory=set)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://{self.host}:{self.port}/response/{name}"

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.args for call in self.calls if call.method == method]

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(SlackCall(method, args))
            error = self.fail_next.pop(method, None)
        if error:
            return {"ok": False, "error": error}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0001"}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": args}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            return {
                "ok": True,
                "view": {"id": f"V{next(self._ts):08d}", **_as_dict(args.get("view"))},
            }
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(str(args.get("usergroup")), [])}
        if method.startswith("response/"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return value if isinstance(value, dict) else {}


def _decode_fields(args: dict[str, Any]) -> dict[str, Any]:
    """WebClient sends blocks/views as JSON strings in form posts; decode them for asserts."""
    for key in ("blocks", "view", "attachments"):
        if isinstance(args.get(key), str):
            with suppress(json.JSONDecodeError):
                args[key] = json.loads(args[key])
    return args


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            content_type = self.headers.get("Content-Type") or ""
            if "json" in content_type:
                args = json.loads(raw or "{}")
            else:
                args = {key: values[0] for key, values in parse_qs(raw).items()}
            path = self.path.split("?", 1)[0]
            if path.startswith("/api/"):
                method = path[len("/api/") :]
            elif path.startswith("/response/"):
                method = "response/" + path[len("/response/") :]
            else:
                self.send_error(404)
                return
            with fake._lock:
                limited = method in fake.rate_limit_next
                fake.rate_limit_next.discard(method)
                failing = method in fake.server_error_next
                fake.server_error_next.discard(method)
            if failing:
                fake.calls.append(SlackCall(method + " (500)", dict(args)))
                data = b'{"ok": false, "error": "internal_error"}'
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if limited:
                fake.calls.append(SlackCall(method + " (429)", dict(args)))
                data = b'{"ok": false, "error": "ratelimited"}'
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            reply = fake.answer(method, _decode_fields(dict(args)))
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def running_fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    server = ThreadingHTTPServer((fake.host, 0), _handler_for(fake))
    fake.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---- signed requests, as Slack sends them through a Function URL ---------------------------

# Slack gives every command and click its own trigger id (and every click its action_ts).
_interaction = itertools.count(1)


def sign(body: str, secret: str, timestamp: int) -> str:
    import hashlib
    import hmac

    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def function_url_event(
    body: str,
    secret: str,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    extra_headers: dict[str, str] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """A Lambda Function URL event (payload format 2.0) carrying a signed Slack request."""
    import base64
    import time

    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": str(ts),
        "x-slack-signature": signature if signature is not None else sign(body, secret, ts),
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **(extra_headers or {}),
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghijklmnop",
            "domainName": "abcdefghijklmnop.lambda-url.us-east-1.on.aws",
            "http": {
                "method": "POST",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "3.3.3.3",
                "userAgent": "Slackbot 1.0",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": ts * 1000,
        },
        "body": base64.b64encode(body.encode()).decode() if base64_encoded else body,
        "isBase64Encoded": base64_encoded,
    }


def slash_command_body(
    text: str, *, user_id: str, channel_id: str, response_url: str, command: str = "/tune"
) -> str:
    from urllib.parse import urlencode

    return urlencode(
        {
            "token": "unused-verification-token",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": channel_id,
            "channel_name": "ops",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A123456",
            "response_url": response_url,
            "trigger_id": f"13345224609.738474920.{next(_interaction):021x}",
        }
    )


def block_action_body(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    blocks: list[dict[str, Any]],
    response_url: str,
    is_ephemeral: bool = False,
) -> str:
    """A ``block_actions`` payload (form field ``payload``) for a button in a message."""
    from urllib.parse import urlencode

    interaction = next(_interaction)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0001"},
        "api_app_id": "A123456",
        "token": "unused-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": f"12321423423.333649436676.{interaction:032x}",
        "channel": {"id": channel_id, "name": "ops"},
        "message": {
            "bot_id": "BBOT",
            "type": "message",
            "text": "card",
            "user": "UBOT",
            "ts": message_ts,
            "blocks": blocks,
        },
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "text": {"type": "plain_text", "text": "button"},
                "value": value,
                "type": "button",
                "action_ts": f"1700000001.{interaction:06d}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})

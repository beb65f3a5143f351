"""Slack's answers sorted into "retry" and "do not retry", over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.alerts import SlackDeliveryError, SlackMessage, SlackPoster, SlackTransientError

MESSAGE = SlackMessage(
    text="hello", blocks=({"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},)
)


@contextmanager
def slack_answering(status: int, body: dict[str, Any], headers: dict[str, str]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            data = json.dumps(body).encode()
            self.send_response(status)
            for key, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "message"),
    [
        (
            429,
            {"ok": False, "error": "ratelimited"},
            {"Retry-After": "1"},
            SlackTransientError,
            "Slack answered chat.postMessage with 429 ratelimited",
        ),
        (
            500,
            {"ok": False, "error": "internal_error"},
            {},
            SlackTransientError,
            "Slack answered chat.postMessage with 500 internal_error",
        ),
        (
            200,
            {"ok": False, "error": "channel_not_found"},
            {},
            SlackDeliveryError,
            "Slack refused chat.postMessage: channel_not_found.",
        ),
    ],
)
def test_slack_failures(
    status: int, body: dict[str, Any], headers: dict[str, str], error: type[Exception], message: str
) -> None:
    with slack_answering(status, body, headers) as url:
        poster = SlackPoster(WebClient(token="xoxb-test", base_url=url))
        with pytest.raises(error) as raised:
            poster.post("C0ALERTS", MESSAGE)
    assert str(raised.value) == message


def test_unreachable_slack_is_transient() -> None:
    with slack_answering(200, {"ok": True}, {}) as url:
        pass  # the server is gone: connection refused
    poster = SlackPoster(WebClient(token="xoxb-test", base_url=url, timeout=2))
    with pytest.raises(SlackTransientError, match=r"Could not reach Slack for chat\.postMessage"):
        poster.post("C0ALERTS", MESSAGE)


def test_a_posted_message_returns_its_ts() -> None:
    with slack_answering(200, {"ok": True, "ts": "1700000000.000100"}, {}) as url:
        poster = SlackPoster(WebClient(token="xoxb-test", base_url=url))
        assert poster.post("C0ALERTS", MESSAGE) == "1700000000.000100"

"""Lambda entry point for Slack: ``handlers.slack.handler`` behind a Function URL or API Gateway.

Importing this module is cheap (slack_bolt and nothing heavy): the Bolt app, jinja2, the rules
engine and boto3 clients are built on the first request and kept for the container's life.

Lazy listeners re-invoke this function asynchronously (Bolt's ``LambdaLazyListenerRunner``,
which needs ``lambda:InvokeFunction`` on the function itself). Tests and the local sandbox
replace that with :class:`InProcessLazyRunner` through :func:`configure`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.request import BoltRequest

if TYPE_CHECKING:
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler

    from bot.services import TunebotServices

logger = logging.getLogger(__name__)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

_lock = threading.Lock()
_request_handler: SlackRequestHandler | None = None
_services: Any = None
_secrets: tuple[str, str] | None = None
_overrides: dict[str, Any] = {}


class InProcessLazyRunner(LazyListenerRunner):
    """Runs lazy listeners the way Lambda does, without Lambda.

    Like Bolt's Lambda runner it re-sends the original event with the lazy-only headers, but
    to ``handlers.slack.handler`` in this process. ``deferred=True`` queues the events until
    :meth:`run_pending` (a test can look at the acknowledgement first); ``False`` runs each at
    once, after the acknowledgement was built.
    """

    def __init__(self, *, deferred: bool = True) -> None:
        self.logger = logging.getLogger("tunebot.lazy")
        self.deferred = deferred
        self.pending: list[dict[str, Any]] = []

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        event = copy.deepcopy(request.context["lambda_request"])
        headers = event.setdefault("headers", {})
        headers["x-slack-bolt-lazy-only"] = "1"
        headers["x-slack-bolt-lazy-function-name"] = request.lazy_function_name
        if self.deferred:
            self.pending.append(event)
        else:
            handler(event, _LocalContext())

    def run_pending(self) -> int:
        """Run queued lazy listeners (and any they queue); returns how many ran."""
        ran = 0
        while self.pending:
            handler(self.pending.pop(0), _LocalContext())
            ran += 1
        return ran


class _LocalContext:
    """The two LambdaContext attributes Bolt reads, for in-process runs."""

    function_name = "tunebot-slack-local"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:tunebot-slack-local"


class _DeferredServices:
    """The AWS-side services, built on first use: importing aws/ and creating boto3 clients
    takes over a second, which an acknowledgement (3 seconds at most) must not wait for."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._services: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = self._factory()
        return getattr(self._services, name)


def _build_services() -> Any:
    from handlers.wiring import build_services

    return build_services()


def configure(
    *,
    services: TunebotServices | None = None,
    lazy_runner: LazyListenerRunner | None = None,
    now: Callable[[], datetime] | None = None,
) -> None:
    """Replace parts for tests and the sandbox; the app is rebuilt on the next request."""
    global _request_handler, _secrets, _services
    with _lock:
        _overrides.clear()
        _overrides.update(
            {
                key: value
                for key, value in (
                    ("services", services),
                    ("lazy_runner", lazy_runner),
                    ("now", now),
                )
                if value is not None
            }
        )
        _request_handler = None
        _secrets = None
        _services = None


def _slack_secrets() -> tuple[str, str]:
    """(bot token, signing secret) from the environment or SLACK_SECRET_ARN, once per container."""
    global _secrets
    if _secrets is None:
        token = os.environ.get("SLACK_BOT_TOKEN")
        secret = os.environ.get("SLACK_SIGNING_SECRET")
        arn = os.environ.get("SLACK_SECRET_ARN")
        if (not token or not secret) and arn:
            from handlers.wiring import read_slack_secret

            stored = read_slack_secret(arn)
            token = token or stored.get("SLACK_BOT_TOKEN")
            secret = secret or stored.get("SLACK_SIGNING_SECRET")
        if not token or not secret:
            raise RuntimeError(
                "Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_SECRET_ARN to a secret "
                "holding both."
            )
        _secrets = (token, secret)
    return _secrets


def _build() -> SlackRequestHandler:
    global _services
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.app import build_app
    from bot.settings import BotSettings

    token, signing_secret = _slack_secrets()
    settings = BotSettings.from_env_or_safe(os.environ)
    if settings.configuration_error:
        logger.error("tunebot configuration: %s", settings.configuration_error)
    services = _overrides.get("services") or _DeferredServices(_build_services)
    _services = services
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = WebClient(
        token=token, base_url=os.environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    )
    # chat.postMessage allows about one message a second per channel; wait out a 429 briefly.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    extra = {"now": _overrides["now"]} if "now" in _overrides else {}
    app = build_app(
        settings=settings, services=services, client=client, signing_secret=signing_secret, **extra
    )
    request_handler = SlackRequestHandler(app)
    runner = _overrides.get("lazy_runner")
    if runner is not None:
        app.listener_runner.lazy_listener_runner = runner
    return request_handler


def _get_handler() -> SlackRequestHandler:
    global _request_handler
    if _request_handler is None:
        with _lock:
            if _request_handler is None:
                _request_handler = _build()
    return _request_handler


def _reply(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"error": message}),
    }


def _normalised(event: Any) -> dict[str, Any] | None:
    """The event with the keys Bolt's adapter indexes directly; None when it is not HTTP."""
    if not isinstance(event, dict) or not isinstance(event.get("requestContext"), dict):
        return None
    http: dict[str, Any] = {str(key): value for key, value in event.items()}
    http["headers"] = dict(http.get("headers") or {})
    body = http.get("body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        return None
    encoded = bool(http.get("isBase64Encoded"))
    if encoded:
        try:
            base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    http["body"] = body
    http["isBase64Encoded"] = encoded
    return http


# Parts of a payload or event Bolt reads while building its request; each an object or an id.
_ADDRESSED = ("user", "team", "channel", "enterprise", "container", "view", "message")


def _well_formed(body: str) -> bool:
    """Payloads and events Bolt would choke on (it indexes them unchecked) are refused early;
    slash commands (form fields) are strings only and always fine."""
    from urllib.parse import parse_qs

    try:
        if body.startswith("payload="):
            payload = json.loads(parse_qs(body).get("payload", [""])[0])
        elif body.lstrip().startswith("{"):
            payload = json.loads(body)
        else:
            return True
    except json.JSONDecodeError:
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("event", {}), dict):
        return False
    for part in (payload, payload.get("event", {})):
        if any(not isinstance(part.get(key), dict | str | None) for key in _ADDRESSED):
            return False
    if payload.get("type") == "block_actions":
        actions = payload.get("actions")
        return isinstance(actions, list) and bool(actions) and isinstance(actions[0], dict)
    return True


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in event["headers"].items()}


def _text(event: dict[str, Any]) -> str:
    body: str = event["body"]
    return base64.b64decode(body).decode("utf-8") if event["isBase64Encoded"] else body


def _signed(event: dict[str, Any]) -> bool:
    """Signed by Slack with our secret within the last 5 minutes.

    Checked before Bolt sees the request: Bolt reads the body (user, team, channel) before its
    own signature check, and indexes it unchecked, so a forged body could crash it.
    """
    from slack_sdk.signature import SignatureVerifier

    headers = _headers(event)
    return SignatureVerifier(_slack_secrets()[1]).is_valid(
        _text(event),
        headers.get("x-slack-request-timestamp", ""),
        headers.get("x-slack-signature", ""),
    )


def _is_repeat_delivery(event: dict[str, Any]) -> bool:
    """A lazy-listener invocation Lambda delivered before (async delivery is at least once).
    Only signed requests get here, so nobody can fill the store with made-up keys."""
    headers = _headers(event)
    if not headers.get("x-slack-bolt-lazy-only"):
        return False
    name = headers.get("x-slack-bolt-lazy-function-name", "")
    timestamp = headers.get("x-slack-request-timestamp", "")
    key = hashlib.sha256(f"{name}\n{timestamp}\n{_text(event)}".encode()).hexdigest()
    if _services.first_delivery(key):
        return False
    logger.info("lazy listener %s was delivered again; skipped", name)
    return True


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Function URL / API Gateway event in, HTTP response out. Bad requests never raise."""
    normalised = _normalised(event)
    if normalised is None:
        return _reply(
            400, "Expected a well-formed HTTP request from Slack (Function URL or API Gateway)."
        )
    try:
        request_handler = _get_handler()
    except RuntimeError as error:
        logger.error("%s", error)
        return _reply(500, "tunebot is not configured; see its logs.")
    if not _signed(normalised):
        return _reply(401, "The request is not signed by Slack, or the signature is stale.")
    if not _well_formed(_text(normalised)):
        return _reply(400, "Expected a Slack request body of a known shape.")
    if _is_repeat_delivery(normalised):
        return {"statusCode": 200, "headers": {}, "body": ""}
    try:
        response: dict[str, Any] = request_handler.handle(  # type: ignore[no-untyped-call]
            normalised, context or _LocalContext()
        )
    except (TypeError, AttributeError, KeyError, ValueError):
        # Bolt parsing a signed body of an unexpected shape (listener errors never get here:
        # Bolt answers those itself).
        logger.warning("unexpected Slack request body", exc_info=True)
        return _reply(400, "Expected a Slack request body of a known shape.")
    return response

"""Lambda entry point for Slack: ``handlers.slack.handler`` behind a Function URL or API Gateway.

Importing this module is cheap (slack_bolt and nothing heavy): the Bolt app, jinja2, the rules
engine and boto3 clients are built on the first request and kept for the container's life.

Lazy listeners re-invoke this function asynchronously (:class:`handlers.slack_lazy.
LambdaSelfInvoker`, which needs ``lambda:InvokeFunction`` on the function itself) with a sealed
event, so a late delivery is still recognised as tunebot's own. Tests and the local sandbox
replace that with :class:`InProcessLazyRunner` through :func:`configure`.

Every request is checked here before Bolt sees it (Bolt's own signature check is off): the
event is HTTP-shaped, Slack signed it within five minutes (or tunebot sealed it, for lazy
work), and its body has a shape Bolt and the listeners can read. Anything else is answered
400 or 401, logged at warning and counted (``SlackRequestsMalformed``,
``SlackRequestsUnsigned``); nothing a client sends makes the function fail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.request import BoltRequest

from handlers.slack_lazy import (
    LAZY_FUNCTION,
    LAZY_ONLY,
    MAX_LAZY_AGE_S,
    LambdaSelfInvoker,
    lazy_event,
    seal_problem,
)
from handlers.slack_shapes import body_problem, parsed_body

if TYPE_CHECKING:
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler

    from service.api import TunebotServices

logger = logging.getLogger(__name__)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# Slack's replay window for signed requests.
SIGNATURE_WINDOW_S = 5 * 60
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Tunebot"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "tunebot"
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)

# Seconds since the epoch; tests move it to deliver a lazy invocation late.
clock: Callable[[], float] = time.time

_lock = threading.Lock()
_request_handler: SlackRequestHandler | None = None
_services: Any = None
_secrets: tuple[str, str] | None = None
_overrides: dict[str, Any] = {}


class InProcessLazyRunner(LazyListenerRunner):
    """Runs lazy listeners the way Lambda does, without Lambda.

    Like :class:`handlers.slack_lazy.LambdaSelfInvoker` it re-sends the original event with
    the lazy-only headers and tunebot's seal, but to ``handlers.slack.handler`` in this
    process. ``deferred=True`` queues the events until :meth:`run_pending` (a test can look at
    the acknowledgement first); ``False`` runs each at once, after the acknowledgement was
    built.
    """

    def __init__(self, *, deferred: bool = True) -> None:
        self.logger = logging.getLogger("tunebot.lazy")
        self.deferred = deferred
        self.pending: list[dict[str, Any]] = []

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        original = request.context["lambda_request"]
        event = lazy_event(request, _slack_secrets()[1], _text(original))
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
    from handlers.compose import build_services

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
            from handlers.compose import read_slack_secret

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

    from bot.app import build_app
    from bot.settings import BotSettings

    token, signing_secret = _slack_secrets()
    settings = BotSettings.from_env_or_safe(os.environ)
    if settings.configuration_error:
        logger.error("tunebot configuration: %s", settings.configuration_error)
    services = _overrides.get("services") or _DeferredServices(_build_services)
    _services = services
    from handlers.compose import slack_client

    client = slack_client(token, os.environ)
    extra = {"now": _overrides["now"]} if "now" in _overrides else {}
    # Bolt's signature check is off: handler() checks every request first, Slack's signature
    # or, for lazy work re-sent after Slack's five minutes, tunebot's own seal.
    app = build_app(
        settings=settings,
        services=services,
        client=client,
        signing_secret=signing_secret,
        verify_requests=False,
        **extra,
    )
    request_handler = SlackRequestHandler(app)
    runner = _overrides.get("lazy_runner") or LambdaSelfInvoker(signing_secret, _text)
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


def _count(metric: str) -> None:
    """One CloudWatch metric, printed as EMF at once (Powertools loads only on this path)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=metric,
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE},
    ):
        pass


def _refuse(status: int, message: str, reason: str) -> dict[str, Any]:
    """A logged and counted refusal; the body says ``message``, the log the ``reason``."""
    logger.warning("refused a Slack request (%s): %s", status, reason)
    _count("SlackRequestsUnsigned" if status == 401 else "SlackRequestsMalformed")
    return _reply(status, message)


NOT_HTTP = "Expected a well-formed HTTP request from Slack (Function URL or API Gateway)."
NOT_SIGNED = "The request is not signed by Slack, or the signature is stale."
UNKNOWN_SHAPE = "Expected a Slack request body of a known shape."


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    )


def _http_problem(event: Any) -> str | None:
    """Why ``event`` is not an HTTP event Bolt's adapter can read, or None."""
    if not isinstance(event, dict) or not isinstance(event.get("requestContext"), dict):
        return "the event is not a Function URL or API Gateway request"
    context = event["requestContext"]
    if not isinstance(context.get("http", {}), dict):
        return "requestContext.http is not an object"
    method = context.get("http", {}).get("method", context.get("httpMethod"))
    if method is not None and not isinstance(method, str):
        return "the HTTP method is not a string"
    if event.get("headers") is not None and not _strings(event["headers"]):
        return "the headers are not strings"
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        return "the body is not a string"
    if not isinstance(event.get("isBase64Encoded", False), bool):
        return "isBase64Encoded is not a boolean"
    query = event.get("queryStringParameters")
    if query is not None and not _strings(query):
        return "the query parameters are not strings"
    cookies = event.get("cookies")
    if cookies is not None and not (
        isinstance(cookies, list) and all(isinstance(c, str) for c in cookies)
    ):
        return "the cookies are not strings"
    multi = event.get("multiValueHeaders")
    if multi is not None and not (
        isinstance(multi, dict)
        and all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in multi.values())
    ):
        return "multiValueHeaders is not lists of strings"
    return None


def _normalised(event: Any) -> tuple[dict[str, Any] | None, str]:
    """The event with the keys Bolt's adapter indexes directly (headers lower-cased), or None
    and why it is not an HTTP request tunebot can read."""
    problem = _http_problem(event)
    if problem:
        return None, problem
    http: dict[str, Any] = dict(event)
    http["headers"] = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    http["body"] = event.get("body") or ""
    http["isBase64Encoded"] = bool(event.get("isBase64Encoded", False))
    try:
        text = _text(http)
        text.encode("utf-8")
    except (binascii.Error, UnicodeError):
        return None, "the body is not UTF-8 text (or not valid base64)"
    return http, ""


def _headers(event: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = event["headers"]
    return headers


def _text(event: dict[str, Any]) -> str:
    body: str = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True).decode("utf-8")
    return body


def _signature_problem(headers: dict[str, str], text: str) -> str | None:
    """Why this request is not signed by Slack with our secret within the last 5 minutes.

    Checked before Bolt sees the request: Bolt reads the body (user, team, channel) before its
    own signature check, and indexes it unchecked, so a forged body could crash it.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return "no Slack signature headers"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "X-Slack-Request-Timestamp is not a Unix time"
    if not _SIGNATURE.fullmatch(signature):
        return "X-Slack-Signature is not of the form v0=<64 hex digits>"
    if abs(clock() - int(timestamp)) > SIGNATURE_WINDOW_S:
        return "the timestamp is more than five minutes away"
    secret = _slack_secrets()[1].encode()
    expected = hmac.new(secret, f"v0:{timestamp}:{text}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest("v0=" + expected, signature):
        return "the signature does not match"
    return None


def _is_repeat_delivery(event: dict[str, Any]) -> bool:
    """A lazy-listener invocation Lambda delivered before (async delivery is at least once).
    Only signed requests get here, so nobody can fill the store with made-up keys."""
    headers = _headers(event)
    if not headers.get(LAZY_ONLY):
        return False
    name = headers.get(LAZY_FUNCTION, "")
    timestamp = headers.get("x-slack-request-timestamp", "")
    key = hashlib.sha256(f"{name}\n{timestamp}\n{_text(event)}".encode()).hexdigest()
    if _services.first_delivery(key):
        return False
    logger.info("lazy listener %s was delivered again; skipped", name)
    return True


def _too_late(request_handler: SlackRequestHandler, event: dict[str, Any], age_s: float) -> None:
    """A sealed lazy invocation too old to act on: logged, counted and told to the user."""
    from bot.late_requests import tell_too_late

    headers = _headers(event)
    name = headers.get(LAZY_FUNCTION, "")
    asked_at = datetime.fromtimestamp(int(headers["x-slack-request-timestamp"]), UTC)
    body = parsed_body(_text(event), _content_type(headers))
    told = tell_too_late(
        request_handler.app.client, body, asked_at, datetime.fromtimestamp(clock(), UTC)
    )
    logger.error(
        "lazy listener %s arrived %d s after the request (limit %d s); not run, user %s",
        name,
        age_s,
        MAX_LAZY_AGE_S,
        f"told by {told}" if told else "could not be told",
    )
    _count("LazyEventsExpired")


def _readable_by_bolt(event: dict[str, Any], text: str) -> dict[str, Any]:
    """The event with a form body Bolt would misread made readable.

    Bolt reads any form body that contains the letters "payload" as an interactivity payload,
    so ``/tune payload-processor`` reached no listener. Percent-encoding one letter of each
    occurrence keeps the fields the same for every form parser and Bolt reads a command.
    (The signature was checked on the original; a lazy event is sealed over this text.)
    """
    from urllib.parse import parse_qsl

    content_type = _content_type(_headers(event))
    if "payload" not in text or content_type == "application/json" or text.startswith("{"):
        return event
    if "payload" in dict(parse_qsl(text, keep_blank_values=True)):
        return event
    return {**event, "body": text.replace("payload", "%70ayload"), "isBase64Encoded": False}


def _content_type(headers: dict[str, str]) -> str | None:
    value = headers.get("content-type")
    return value.split(";")[0] if value else None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Function URL / API Gateway event in, HTTP response out. Bad requests never raise."""
    normalised, problem = _normalised(event)
    if normalised is None:
        return _refuse(400, NOT_HTTP, problem)
    try:
        request_handler = _get_handler()
    except RuntimeError as error:
        logger.error("%s", error)
        return _reply(500, "tunebot is not configured; see its logs.")
    headers = _headers(normalised)
    text = _text(normalised)
    lazy = bool(headers.get(LAZY_ONLY))
    unsigned = (
        seal_problem(_slack_secrets()[1], headers, text)
        if lazy
        else _signature_problem(headers, text)
    )
    if unsigned:
        return _refuse(401, NOT_SIGNED, unsigned)
    shape = body_problem(text, _content_type(headers))
    if shape:
        return _refuse(400, UNKNOWN_SHAPE, shape)
    normalised = _readable_by_bolt(normalised, text)
    if _is_repeat_delivery(normalised):
        return {"statusCode": 200, "headers": {}, "body": ""}
    if lazy:
        age_s = clock() - int(headers["x-slack-request-timestamp"])
        if age_s > MAX_LAZY_AGE_S:
            _too_late(request_handler, normalised, age_s)
            return {"statusCode": 200, "headers": {}, "body": ""}
    try:
        response: dict[str, Any] = request_handler.handle(  # type: ignore[no-untyped-call]
            normalised, context or _LocalContext()
        )
    except (TypeError, AttributeError, KeyError, ValueError, RecursionError):
        # A shape the checks above missed: still a 400, with the detail in the log.
        logger.warning("unexpected Slack request body", exc_info=True)
        _count("SlackRequestsMalformed")
        return _reply(400, UNKNOWN_SHAPE)
    return response

"""How the Slack function hands slow work to itself, and how it knows such a hand-over is its own.

Bolt acknowledges Slack within 3 seconds and re-sends the same request to a "lazy listener":
on Lambda an asynchronous invocation of the function itself, with the headers
``x-slack-bolt-lazy-only`` and ``x-slack-bolt-lazy-function-name``. Lambda may deliver that
invocation late (it queues asynchronous events for up to ``MaximumEventAgeInSeconds``, an
hour in the template), long after Slack's signature has left its five-minute window, so the
re-sent request cannot be checked by Slack's signature alone.

Every re-sent request therefore carries a **seal**: an HMAC-SHA256, made with a key derived
from the signing secret, over the lazy function's name, Slack's timestamp, the content type
and the body. Only whoever holds the signing secret can make one, it never expires by itself,
and it cannot be moved to another body or another lazy listener. A lazy-only request without
a valid seal is refused (401), however fresh its Slack signature. How late a sealed request
may still be acted on is :data:`MAX_LAZY_AGE_S`; the handler tells the user about later ones.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.request import BoltRequest

LAZY_ONLY = "x-slack-bolt-lazy-only"
LAZY_FUNCTION = "x-slack-bolt-lazy-function-name"
SEAL = "x-tunebot-lazy-seal"
TIMESTAMP = "x-slack-request-timestamp"

# A sealed request older than this (from Slack's timestamp, about when the user clicked) is
# not acted on: Lambda's own retries come within minutes, a change applied a quarter of an
# hour after the click would surprise the user, and Slack's response_url (valid 30 minutes
# from the click) still has time left to tell them.
MAX_LAZY_AGE_S = 15 * 60

_SEAL_VALUE = re.compile(r"v1=[0-9a-f]{64}", re.ASCII)
_KEY_LABEL = b"tunebot lazy-listener seal v1"


def _key(signing_secret: str) -> bytes:
    # A key of its own: a seal is never a valid Slack signature, nor the other way round.
    return hmac.new(signing_secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def seal_for(signing_secret: str, headers: dict[str, str], text: str) -> str:
    """The seal of a lazy request with these (lower-cased) headers and this body text."""
    message = json.dumps(
        [
            headers.get(LAZY_FUNCTION, ""),
            headers.get(TIMESTAMP, ""),
            headers.get("content-type", ""),
            text,
        ]
    ).encode()
    return "v1=" + hmac.new(_key(signing_secret), message, hashlib.sha256).hexdigest()


def seal_problem(signing_secret: str, headers: dict[str, str], text: str) -> str | None:
    """Why this lazy-only request is not one tunebot sealed, or None when it is."""
    given = headers.get(SEAL)
    if not given:
        return "a lazy-listener request without tunebot's seal"
    if not _SEAL_VALUE.fullmatch(given):
        return "a lazy-listener seal of the wrong form"
    if not headers.get(TIMESTAMP, "").isascii() or not headers.get(TIMESTAMP, "").isdigit():
        return "a lazy-listener request without Slack's timestamp"
    if not hmac.compare_digest(seal_for(signing_secret, headers, text), given):
        return "a lazy-listener seal that does not match"
    return None


def lazy_event(request: BoltRequest, signing_secret: str, text: str) -> dict[str, Any]:
    """The Lambda event that runs ``request``'s lazy listener: the original event, its headers
    marked lazy-only and sealed. ``text`` is the body as signed (base64 decoded)."""
    event: dict[str, Any] = copy.deepcopy(request.context["lambda_request"])
    # Bolt adds the request's cookies (a list) to these headers; they are not the request's.
    headers = {
        str(key).lower(): str(value)
        for key, value in (event.get("headers") or {}).items()
        if str(key).lower() != "cookie"
    }
    headers[LAZY_ONLY] = "1"
    headers[LAZY_FUNCTION] = str(request.lazy_function_name)
    headers[SEAL] = seal_for(signing_secret, headers, text)
    event["headers"] = headers
    return event


class LambdaSelfInvoker(LazyListenerRunner):
    """Runs lazy listeners as Bolt's ``LambdaLazyListenerRunner`` does, an asynchronous
    invocation of this function, but with the event sealed. (Like Bolt's runner it makes its
    one boto3 call itself: the acknowledgement must not wait for tunebot's AWS side to load.)"""

    def __init__(
        self,
        signing_secret: str,
        text_of: Callable[[dict[str, Any]], str],
        lambda_client: Any = None,
    ) -> None:
        self.logger = logging.getLogger("tunebot.lazy")
        self.lambda_client = lambda_client
        self._signing_secret = signing_secret
        self._text_of = text_of

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        if self.lambda_client is None:
            import boto3

            self.lambda_client = boto3.client("lambda")
        original = request.context["lambda_request"]
        event = lazy_event(request, self._signing_secret, self._text_of(original))
        self.lambda_client.invoke(
            FunctionName=request.context["aws_lambda_invoked_function_arn"],
            InvocationType="Event",
            Payload=json.dumps(event),
        )
        self.logger.info("lazy listener %s started", request.lazy_function_name)

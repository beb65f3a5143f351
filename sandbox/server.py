"""The sandbox's HTTP server (127.0.0.1 only): the page, Slack's Web API, and the page's API.

Routes:
- ``GET /`` and ``/static/…``: the Slack stand-in page.
- ``GET|POST /api/<method>``: the Slack Web API methods the bot calls (``SLACK_API_URL``).
- ``POST /response/<token>``: ``response_url`` replies.
- ``/sandbox/…``: what the page does (read state, run a command, click, fire an alert).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import web_api
from sandbox.bridge import BridgeError, Delivery, SlackBridge
from sandbox.workspace import JsonDict, SlackApiError, Workspace

logger = logging.getLogger(__name__)

LONG_POLL_S = 20.0
MAX_BODY_BYTES = 1_000_000
STATIC_FILES = {"index.html", "app.js", "blocks.js", "style.css", "favicon.svg"}

PageAction = Callable[[JsonDict], JsonDict]


class PageError(Exception):
    """A page request with missing or wrong fields; the message is shown as is."""


def _field(payload: JsonDict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise PageError(f"The request needs a {name!r} field.")
    return value


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    # A stopped demo must free its port at once for the next run.
    allow_reuse_address = True

    def __init__(
        self,
        port: int,
        workspace: Workspace,
        *,
        bot_token: str,
    ) -> None:
        super().__init__(("127.0.0.1", port), SandboxRequestHandler)
        self.workspace = workspace
        self.bot_token = bot_token
        self.bridge: SlackBridge | None = None
        # Extra page actions (the alerts) registered by the sandbox: path -> action.
        self.page_actions: dict[str, PageAction] = {}
        # What the page shows about the sandbox (users, channels, functions).
        self.info: JsonDict = {}
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.stopping.set()
        self.workspace.wake_all()
        self.shutdown()
        self.server_close()


class SandboxRequestHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    # -- plumbing -----------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, payload: Any, status: int = 200) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise PageError("The request body is too large.")
        return self.rfile.read(length) if length else b""

    def _arguments(self, query: str) -> JsonDict:
        """Web API arguments: query string, form or JSON body, as ``slack_sdk`` sends them."""
        args: JsonDict = {key: values[-1] for key, values in parse_qs(query).items()}
        body = self._read_body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if body and content_type == "application/json":
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                args.update(parsed)
        elif body:
            args.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
        return args

    def _page_payload(self) -> JsonDict:
        # A JSON content type cannot come from a plain cross-site form, only from the page.
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type != "application/json":
            raise PageError("Requests to the sandbox must be JSON.")
        body = self._read_body()
        if not body:
            return {}
        try:
            parsed = json.loads(body)
        except json.JSONDecodeError as error:
            raise PageError("The request body is not JSON.") from error
        if not isinstance(parsed, dict):
            raise PageError("The request body must be a JSON object.")
        return parsed

    # -- routing ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _trusted_host(self) -> bool:
        """Only pages served from this server may talk to it (no DNS rebinding)."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        return host in ("127.0.0.1", "localhost")

    def _route(self, verb: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if not self._trusted_host():
            self._send_json({"error": "forbidden host"}, HTTPStatus.FORBIDDEN)
            return
        try:
            if path.startswith("/api/"):
                self._web_api(path.removeprefix("/api/"), parts.query)
            elif path.startswith("/response/") and verb == "POST":
                self._response_url(path.removeprefix("/response/"))
            elif path.startswith("/sandbox/"):
                self._page_api(verb, path.removeprefix("/sandbox/"), parts.query)
            elif verb == "GET":
                self._static("index.html" if path == "/" else path.removeprefix("/static/"))
            else:
                self._send_json({"error": "not found"}, HTTPStatus.NOT_FOUND)
        except (PageError, BridgeError, SlackApiError) as error:
            message = str(error)
            if isinstance(error, SlackApiError):
                message = f"Slack would refuse that: {error.code}."
            self._send_json({"error": message}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("the browser went away")
        except Exception:  # one bad request must not look like a hung page
            logger.exception("the sandbox failed on %s %s", verb, path)
            message = "The sandbox failed on that request; the terminal has the details."
            self._send_json({"error": message}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _static(self, name: str) -> None:
        if name not in STATIC_FILES:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        data = resources.files("sandbox").joinpath("static", name).read_bytes()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or name.endswith(".js"):
            content_type += "; charset=utf-8"
        self._send(HTTPStatus.OK, data, content_type)

    def _web_api(self, method: str, query: str) -> None:
        try:
            args = self._arguments(query)
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._send_json({"ok": False, "error": "invalid_json"})
            return
        authorization = self.headers.get("Authorization") or ""
        token = authorization.removeprefix("Bearer ").strip() or args.pop("token", None)
        reply = web_api.call(self.server.workspace, method, args, token, self.server.bot_token)
        self._send_json(reply)

    def _response_url(self, token: str) -> None:
        payload = self._page_payload()
        try:
            self.server.workspace.respond(token, payload)
        except SlackApiError as error:
            # Slack answers an unknown or expired URL with 404, a payload it refuses with 400.
            status = HTTPStatus.NOT_FOUND if error.code == "expired_url" else HTTPStatus.BAD_REQUEST
            self._send(status, error.code.encode(), "text/plain")
            return
        self._send(HTTPStatus.OK, b"ok", "text/plain")

    def _bridge(self) -> SlackBridge:
        if self.server.bridge is None:
            raise PageError("The bot is still starting; try again in a moment.")
        return self.server.bridge

    def _page_api(self, verb: str, name: str, query: str) -> None:
        workspace = self.server.workspace
        if verb == "GET" and name == "info":
            self._send_json(self.server.info)
            return
        if verb == "GET" and name == "state":
            params = {key: values[-1] for key, values in parse_qs(query).items()}
            user = params.get("user") or ""
            workspace.user(user)
            since = params.get("since")
            if since is not None and not since.isdigit():
                raise PageError("'since' must be a version number.")
            if since is not None and not self.server.stopping.is_set():
                workspace.wait_for_change(int(since), LONG_POLL_S)
            self._send_json(workspace.state_for(user))
            return
        if verb != "POST":
            raise PageError("Unknown sandbox request.")
        payload = self._page_payload()
        if name == "reload":
            self._send_json({"dropped": workspace.drop_ephemeral()})
            return
        if name in self.server.page_actions:
            try:
                reply = self.server.page_actions[name](payload)
            except PageError:
                raise
            except Exception:  # a failing handler must show on the page, not drop the request
                logger.exception("the sandbox action %s failed", name)
                message = "The handler failed; the terminal running tunebot demo has the details."
                self._send_json({"error": message}, HTTPStatus.INTERNAL_SERVER_ERROR)
                return
            self._send_json(reply)
            return
        delivery = self._slack_request(name, payload)
        self._send_json(delivery.as_json())

    def _slack_request(self, name: str, payload: JsonDict) -> Delivery:
        bridge = self._bridge()
        user = _field(payload, "user")
        if name == "command":
            return bridge.slash_command(user, _field(payload, "channel"), _field(payload, "text"))
        if name == "action":
            action = payload.get("action")
            if not isinstance(action, dict):
                raise PageError("The request needs an 'action' object.")
            if payload.get("view_id"):
                return bridge.view_action(user, _field(payload, "view_id"), action)
            return bridge.message_action(
                user, _field(payload, "channel"), _field(payload, "message_ts"), action
            )
        if name == "submit":
            values = payload.get("values") or {}
            if not isinstance(values, dict):
                raise PageError("'values' must be an object.")
            return bridge.view_submission(user, _field(payload, "view_id"), values)
        if name == "close":
            return bridge.view_closed(user, _field(payload, "view_id"))
        if name == "home":
            return bridge.home_opened(user)
        raise PageError("Unknown sandbox request.")


def serve_in_thread(server: SandboxServer) -> threading.Thread:
    # A short poll interval makes stopping (Ctrl-C, tests) quick.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-http",
        daemon=True,
    )
    thread.start()
    return thread

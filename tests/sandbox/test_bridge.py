"""The bridge's requests pass Bolt's own signature check and carry Slack's documented fields.

These tests put a minimal Bolt app (Bolt's Lambda adapter, signature verification on) behind
the bridge, so what is checked is the request shape and the way acks and replies come back,
independently of tunebot's listeners (the end-to-end test covers those).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_sdk import WebClient

from sandbox.app import DEMO_BOT_TOKEN, DEMO_SIGNING_SECRET
from sandbox.bridge import ACK_DEADLINE_S, LATE_INTERACTION, BridgeError, SlackBridge
from sandbox.people import ALICE, CAROL, TUNEBOT_CHANNEL
from sandbox.server import SandboxServer
from sandbox.slack_requests import function_url_event, signature
from sandbox.workspace import Workspace

Handler = Callable[[dict[str, Any], Any], Any]


def bolt_handler(server: SandboxServer, seen: list[dict[str, Any]]) -> Handler:
    client = WebClient(token=DEMO_BOT_TOKEN, base_url=f"{server.url}/api/")
    app = App(client=client, signing_secret=DEMO_SIGNING_SECRET, process_before_response=True)

    @app.command("/tune")
    def tune(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        seen.append(command)
        if command["text"] == "secret":
            ack(text="Only you can see this ack.")
            return
        ack()
        client.chat_postMessage(
            channel=command["channel_id"],
            text="card",
            blocks=[
                {
                    "type": "actions",
                    "block_id": "card-actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "apply",
                            "text": {"type": "plain_text", "text": "Apply"},
                            "value": "rec-1",
                        }
                    ],
                }
            ],
        )

    @app.action("apply")
    def apply(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        seen.append(body)
        respond(text=f"Applied by <@{body['user']['id']}>", replace_original=True)

    @app.view("details")
    def details(ack: Ack, view: dict[str, Any]) -> None:
        value = view["state"]["values"]["reason"]["reason_input"]["value"]
        if not value:
            ack(response_action="errors", errors={"reason": "Say why."})
        else:
            ack()

    handler = SlackRequestHandler(app)

    class Context:
        function_name = "tunebot-slack"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tunebot-slack"

    return lambda event, _context: handler.handle(event, Context())


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def bridge(server: SandboxServer, workspace: Workspace, seen: list[dict[str, Any]]) -> SlackBridge:
    return SlackBridge(
        workspace,
        signing_secret=DEMO_SIGNING_SECRET,
        public_url=server.url,
        slack_handler=bolt_handler(server, seen),
    )


def test_signature_is_slacks_hmac() -> None:
    # Slack's documented example: secret, timestamp and body give this exact signature.
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        "-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
        "00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d1"
        "0d2c447fce8b6703c"
    )
    assert (
        signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_function_url_event_carries_the_body_base64_encoded() -> None:
    event = function_url_event("a=1", "application/x-www-form-urlencoded", "s", now=1_700_000_000)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"a=1"
    assert event["headers"]["x-slack-request-timestamp"] == "1700000000"
    assert event["requestContext"]["http"]["method"] == "POST"


def test_slash_command_reaches_the_app_signed_with_slacks_fields(
    bridge: SlackBridge, workspace: Workspace, seen: list[dict[str, Any]]
) -> None:
    delivery = bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune checkout-api")
    assert (delivery.status, delivery.problem) == (200, None)
    (command,) = seen
    assert command["command"] == "/tune"
    assert command["text"] == "checkout-api"
    assert command["user_id"] == ALICE.id
    assert command["channel_id"] == TUNEBOT_CHANNEL.id
    assert command["response_url"].startswith("http://127.0.0.1:")
    echo, card = workspace.messages
    assert (echo.kind, echo.text, echo.ephemeral_to) == ("command", "/tune checkout-api", ALICE.id)
    assert card.text == "card"


def test_an_ack_with_text_is_shown_only_to_the_user(
    bridge: SlackBridge, workspace: Workspace
) -> None:
    bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune secret")
    ack = workspace.messages[-1]
    assert (ack.text, ack.ephemeral_to, ack.kind) == (
        "Only you can see this ack.",
        ALICE.id,
        "message",
    )


def test_a_button_click_replaces_the_card_through_response_url(
    bridge: SlackBridge, workspace: Workspace, seen: list[dict[str, Any]]
) -> None:
    bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune checkout-api")
    card = workspace.messages[-1]
    button = card.blocks[0]["elements"][0]
    action = {**button, "block_id": "card-actions"}
    delivery = bridge.message_action(CAROL.id, TUNEBOT_CHANNEL.id, card.ts, action)
    assert delivery.status == 200
    body = seen[-1]
    assert body["type"] == "block_actions"
    assert body["actions"][0]["value"] == "rec-1"
    assert body["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": TUNEBOT_CHANNEL.id,
        "is_ephemeral": False,
    }
    assert workspace.find_message(TUNEBOT_CHANNEL.id, card.ts).text == f"Applied by <@{CAROL.id}>"


def test_a_wrong_signing_secret_is_refused_like_a_forgery(
    server: SandboxServer, workspace: Workspace, seen: list[dict[str, Any]]
) -> None:
    forger = SlackBridge(
        workspace,
        signing_secret="not-the-secret",
        public_url=server.url,
        slack_handler=bolt_handler(server, seen),
    )
    delivery = forger.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune checkout-api")
    assert delivery.status == 401
    assert delivery.problem == (
        "tunebot refused the request: its signature did not verify (HTTP 401)."
    )
    assert seen == []


def test_modal_errors_come_back_and_success_closes_the_modal(
    bridge: SlackBridge, workspace: Workspace
) -> None:
    modal = {
        "type": "modal",
        "callback_id": "details",
        "title": {"type": "plain_text", "text": "Why"},
        "blocks": [],
    }
    opened = workspace.open_view(ALICE.id, modal)
    empty = {"reason": {"reason_input": {"type": "plain_text_input", "value": ""}}}
    refused = bridge.view_submission(ALICE.id, opened.id, empty)
    assert refused.errors == {"reason": "Say why."}
    assert workspace.state_for(ALICE.id)["modal"]["id"] == opened.id

    filled = {"reason": {"reason_input": {"type": "plain_text_input", "value": "cost"}}}
    accepted = bridge.view_submission(ALICE.id, opened.id, filled)
    assert (accepted.status, accepted.errors) == (200, None)
    assert workspace.state_for(ALICE.id)["modal"] is None


def test_commands_must_start_with_a_slash(bridge: SlackBridge) -> None:
    with pytest.raises(BridgeError, match="starts with a slash"):
        bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "tune checkout-api")


def test_clicks_on_messages_another_user_cannot_see_are_refused(
    bridge: SlackBridge, workspace: Workspace
) -> None:
    private = workspace.post_message(TUNEBOT_CHANNEL.id, "mine", ephemeral_to=ALICE.id)
    with pytest.raises(BridgeError, match="not visible"):
        bridge.message_action(CAROL.id, TUNEBOT_CHANNEL.id, private.ts, {"action_id": "x"})


def test_slash_command_body_is_form_encoded_like_slacks(
    server: SandboxServer, workspace: Workspace
) -> None:
    captured: list[dict[str, Any]] = []

    def capture(event: dict[str, Any], context: Any) -> dict[str, Any]:
        captured.append(event)
        return {"statusCode": 200, "body": ""}

    bridge = SlackBridge(
        workspace, signing_secret="s", public_url=server.url, slack_handler=capture
    )
    bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune   image-resizer  ")
    body = parse_qs(base64.b64decode(captured[0]["body"]).decode())
    assert body["command"] == ["/tune"]
    assert body["text"] == ["image-resizer"]
    assert body["user_name"] == ["alice"]
    assert body["channel_name"] == ["tunebot"]
    assert set(body) >= {"team_id", "trigger_id", "response_url", "api_app_id", "token"}


def _slow(handler: Handler, clock: list[float], seconds: float) -> Handler:
    """The handler as if it took ``seconds`` to answer (a fake clock: no waiting in tests)."""

    def slow(event: dict[str, Any], context: Any) -> Any:
        response = handler(event, context)
        clock[0] += seconds
        return response

    return slow


def _bridge_with(
    server: SandboxServer, workspace: Workspace, handler: Handler, clock: list[float]
) -> SlackBridge:
    return SlackBridge(
        workspace,
        signing_secret=DEMO_SIGNING_SECRET,
        public_url=server.url,
        slack_handler=handler,
        clock=lambda: clock[0],
    )


def test_a_late_slash_command_ack_shows_slacks_operation_timeout(
    server: SandboxServer, workspace: Workspace, seen: list[dict[str, Any]]
) -> None:
    """Before, an ack after 3 s was shown as if Slack had waited for it."""
    clock = [0.0]
    slow = _slow(bolt_handler(server, seen), clock, ACK_DEADLINE_S + 0.5)
    bridge = _bridge_with(server, workspace, slow, clock)
    delivery = bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune secret")
    assert delivery.status == 200
    texts = [(m.kind, m.text, m.ephemeral_to) for m in workspace.messages]
    # The ack's text never shows: Slack had given up and said so, to Alice only.
    assert texts == [
        ("command", "/tune secret", ALICE.id),
        ("error", '/tune failed with the error "operation_timeout"', ALICE.id),
    ]


def test_an_ack_within_the_deadline_is_shown(
    server: SandboxServer, workspace: Workspace, seen: list[dict[str, Any]]
) -> None:
    clock = [0.0]
    slow = _slow(bolt_handler(server, seen), clock, ACK_DEADLINE_S - 0.5)
    bridge = _bridge_with(server, workspace, slow, clock)
    bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune secret")
    assert workspace.messages[-1].text == "Only you can see this ack."


def test_a_late_click_shows_slacks_warning_but_its_replies_still_arrive(
    server: SandboxServer, workspace: Workspace, seen: list[dict[str, Any]]
) -> None:
    clock = [0.0]
    slow = _slow(bolt_handler(server, seen), clock, ACK_DEADLINE_S + 1)
    bridge = _bridge_with(server, workspace, slow, clock)
    bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune checkout-api")
    card = next(m for m in workspace.messages if m.text == "card")
    action = {"action_id": "apply", "block_id": "card-actions", "type": "button", "value": "rec-1"}
    delivery = bridge.message_action(ALICE.id, TUNEBOT_CHANNEL.id, card.ts, action)
    assert delivery.problem == LATE_INTERACTION == "This app took too long to respond."
    # What the handler sent through response_url meanwhile is not undone.
    assert workspace.find_message(TUNEBOT_CHANNEL.id, card.ts).text.startswith("Applied by")


def test_an_ack_whose_blocks_slack_refuses_is_not_shown(
    server: SandboxServer, workspace: Workspace
) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]

    def handler(event: dict[str, Any], context: Any) -> Any:
        return {"statusCode": 200, "body": json.dumps({"text": "t", "blocks": too_long})}

    bridge = _bridge_with(server, workspace, handler, [0.0])
    delivery = bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, "/tune x")
    assert delivery.problem == "Slack refused tunebot's reply: invalid_blocks."
    assert [m.kind for m in workspace.messages] == ["command"]

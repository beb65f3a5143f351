"""The sandbox answers slack_sdk's real WebClient the way Slack does, and keeps what it is sent."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.app import DEMO_BOT_TOKEN
from sandbox.people import ALICE, BOB, CAROL, PLATFORM_GROUP, TUNEBOT_CHANNEL
from sandbox.server import SandboxServer
from sandbox.workspace import BOT_USER_ID, ResponseTarget, Workspace

CARD = [
    {"type": "header", "text": {"type": "plain_text", "text": "checkout-api"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Save $12/month*"}},
]


@pytest.fixture
def client(server: SandboxServer) -> WebClient:
    return WebClient(token=DEMO_BOT_TOKEN, base_url=f"{server.url}/api/")


def test_post_then_update_a_message(client: WebClient, workspace: Workspace) -> None:
    posted = client.chat_postMessage(channel=TUNEBOT_CHANNEL.id, text="card", blocks=CARD)
    assert posted["ok"] is True
    assert posted["channel"] == TUNEBOT_CHANNEL.id
    ts = posted["ts"]

    updated = client.chat_update(channel=TUNEBOT_CHANNEL.id, ts=ts, text="applied", blocks=[])
    assert updated["ts"] == ts

    (message,) = workspace.messages
    assert (message.ts, message.text, message.blocks, message.edited) == (ts, "applied", [], True)
    assert message.user == BOT_USER_ID
    assert [method for method, _ in workspace.calls] == ["chat.postMessage", "chat.update"]


def test_channel_names_resolve_and_unknown_channels_fail(client: WebClient) -> None:
    posted = client.chat_postMessage(channel="#tunebot", text="hello")
    assert posted["channel"] == TUNEBOT_CHANNEL.id
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0NOWHERE", text="hello")
    assert raised.value.response["error"] == "channel_not_found"


def test_ephemeral_messages_are_seen_only_by_their_user(
    client: WebClient, workspace: Workspace
) -> None:
    client.chat_postEphemeral(channel=TUNEBOT_CHANNEL.id, user=CAROL.id, text="not allowed")
    assert [m["text"] for m in workspace.state_for(CAROL.id)["messages"]] == ["not allowed"]
    assert workspace.state_for(ALICE.id)["messages"] == []


def test_views_open_needs_a_trigger_and_opens_for_its_user(
    client: WebClient, workspace: Workspace
) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Details"}, "blocks": []}
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="made-up", view=modal)
    assert raised.value.response["error"] == "invalid_trigger_id"

    trigger = workspace.new_trigger(BOB.id)
    opened = client.views_open(trigger_id=trigger, view=modal)
    assert opened["view"]["title"]["text"] == "Details"
    assert workspace.state_for(BOB.id)["modal"]["id"] == opened["view"]["id"]
    assert workspace.state_for(ALICE.id)["modal"] is None


def test_views_publish_sets_the_home_tab(client: WebClient, workspace: Workspace) -> None:
    home = {"type": "home", "blocks": CARD}
    client.views_publish(user_id=ALICE.id, view=home)
    client.views_publish(user_id=ALICE.id, view={"type": "home", "blocks": CARD[:1]})
    assert workspace.state_for(ALICE.id)["home"]["blocks"] == CARD[:1]
    with pytest.raises(SlackApiError):
        client.views_publish(user_id=ALICE.id, view={"type": "modal", "blocks": []})


def test_users_and_user_groups(client: WebClient) -> None:
    info = client.users_info(user=BOB.id)
    assert info["user"]["real_name"] == "Bob Reviewer"
    members = client.usergroups_users_list(usergroup=PLATFORM_GROUP)
    assert members["users"] == [BOB.id]
    with pytest.raises(SlackApiError) as raised:
        client.users_info(user="U0NOBODY00")
    assert raised.value.response["error"] == "user_not_found"


def test_auth_test_names_the_bot(client: WebClient) -> None:
    assert client.auth_test()["user_id"] == BOT_USER_ID


def test_a_wrong_token_is_refused(server: SandboxServer) -> None:
    forged = WebClient(token="xoxb-forged", base_url=f"{server.url}/api/")
    with pytest.raises(SlackApiError) as raised:
        forged.chat_postMessage(channel=TUNEBOT_CHANNEL.id, text="hi")
    assert raised.value.response["error"] == "invalid_auth"


def test_unknown_methods_say_so(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("reactions.add", json={"name": "tada"})
    assert raised.value.response["error"] == "unknown_method"


def test_response_url_replaces_the_original_message(
    server: SandboxServer, client: WebClient, workspace: Workspace
) -> None:
    ts = client.chat_postMessage(channel=TUNEBOT_CHANNEL.id, text="card", blocks=CARD)["ts"]
    token = workspace.new_response_url_token(
        ResponseTarget(channel=TUNEBOT_CHANNEL.id, user=ALICE.id, message_ts=ts)
    )
    webhook = WebhookClient(f"{server.url}/response/{token}")
    replaced = webhook.send(text="Applied", replace_original=True)
    assert (replaced.status_code, replaced.body) == (200, "ok")
    assert workspace.find_message(TUNEBOT_CHANNEL.id, ts).text == "Applied"

    reply = webhook.send(text="Only for you")
    assert reply.status_code == 200
    assert workspace.messages[-1].ephemeral_to == ALICE.id

    assert WebhookClient(f"{server.url}/response/R-unknown").send(text="x").status_code == 404


def test_the_page_long_poll_returns_when_something_changes(
    server: SandboxServer, workspace: Workspace
) -> None:
    version = workspace.version
    timer = threading.Timer(0.2, lambda: workspace.post_message(TUNEBOT_CHANNEL.id, "news"))
    timer.start()
    url = f"{server.url}/sandbox/state?user={ALICE.id}&since={version}"
    with urllib.request.urlopen(url, timeout=10) as response:
        state = json.load(response)
    timer.join()
    assert state["version"] == version + 1
    assert [m["text"] for m in state["messages"]] == ["news"]


def test_the_page_and_its_assets_are_served(server: SandboxServer) -> None:
    with urllib.request.urlopen(f"{server.url}/", timeout=5) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in page
    for asset in ("app.js", "blocks.js", "style.css"):
        with urllib.request.urlopen(f"{server.url}/static/{asset}", timeout=5) as response:
            assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{server.url}/static/../app.py", timeout=5)
    assert raised.value.code == 404


def test_page_requests_before_the_bot_is_attached_get_one_sentence(server: SandboxServer) -> None:
    request = urllib.request.Request(
        f"{server.url}/sandbox/command",
        data=json.dumps(
            {"user": ALICE.id, "channel": TUNEBOT_CHANNEL.id, "text": "/tune x"}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 400
    assert json.load(raised.value) == {"error": "The bot is still starting; try again in a moment."}


def test_requests_for_another_host_are_refused(server: SandboxServer) -> None:
    # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host.
    request = urllib.request.Request(f"{server.url}/sandbox/info", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 403


def test_page_requests_must_be_json(server: SandboxServer) -> None:
    # What a cross-site HTML form could send.
    request = urllib.request.Request(
        f"{server.url}/sandbox/command",
        data=b"user=U0ALICE001&channel=C0TUNEBOT01&text=/tune+x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 400
    assert json.load(raised.value) == {"error": "Requests to the sandbox must be JSON."}


def test_malformed_json_gets_slacks_invalid_json(server: SandboxServer) -> None:
    request = urllib.request.Request(
        f"{server.url}/api/chat.postMessage",
        data=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {DEMO_BOT_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response) == {"ok": False, "error": "invalid_json"}


def test_a_bad_long_poll_version_is_one_sentence(server: SandboxServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{server.url}/sandbox/state?user={ALICE.id}&since=x", timeout=5)
    assert raised.value.code == 400
    assert json.load(raised.value) == {"error": "'since' must be a version number."}


def _button(text: str = "Apply", value: str = "rec-1") -> dict[str, object]:
    return {
        "type": "button",
        "action_id": "apply",
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


INVALID_BLOCKS = {
    "51 blocks": [{"type": "divider"}] * 51,
    "section text over 3000": [_section("x" * 3001)],
    "button text over 75": [{"type": "actions", "elements": [_button(text="x" * 76)]}],
    "button value over 2000": [{"type": "actions", "elements": [_button(value="v" * 2001)]}],
    "unknown block type": [{"type": "carousel"}],
    "misspelt field": [{"type": "section", "txt": {"type": "mrkdwn", "text": "a"}}],
    "unknown field in an element": [
        {"type": "actions", "elements": [{**_button(), "colour": "red"}]}
    ],
}


@pytest.mark.parametrize("blocks", INVALID_BLOCKS.values(), ids=INVALID_BLOCKS.keys())
def test_messages_slack_would_refuse_are_refused(
    client: WebClient, workspace: Workspace, blocks: list[dict[str, object]]
) -> None:
    """Before, the sandbox accepted any blocks, so an invalid card looked fine in the demo."""
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=TUNEBOT_CHANNEL.id, text="card", blocks=blocks)
    assert raised.value.response["ok"] is False
    assert raised.value.response["error"] == "invalid_blocks"
    [reason] = raised.value.response["response_metadata"]["messages"][:1]
    assert reason.startswith("[ERROR] ") and "[json-pointer:/blocks" in reason
    with pytest.raises(SlackApiError):
        client.chat_postEphemeral(
            channel=TUNEBOT_CHANNEL.id, user=ALICE.id, text="card", blocks=blocks
        )
    ts = client.chat_postMessage(channel=TUNEBOT_CHANNEL.id, text="card", blocks=CARD)["ts"]
    with pytest.raises(SlackApiError) as updated:
        client.chat_update(channel=TUNEBOT_CHANNEL.id, ts=ts, text="x", blocks=blocks)
    assert updated.value.response["error"] == "invalid_blocks"
    [message] = workspace.messages
    assert message.blocks == CARD  # nothing refused was stored


def test_the_limits_themselves_are_allowed(client: WebClient) -> None:
    actions = {"type": "actions", "elements": [_button("x" * 75, "v" * 2000)]}
    blocks: list[dict[str, object]] = [_section("x" * 3000), actions]
    blocks += [{"type": "divider"}] * (50 - len(blocks))
    assert client.chat_postMessage(channel=TUNEBOT_CHANNEL.id, text="card", blocks=blocks)["ok"]


def test_blocks_that_are_not_a_list_are_a_format_error(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call(
            "chat.postMessage",
            json={"channel": TUNEBOT_CHANNEL.id, "text": "x", "blocks": {"type": "divider"}},
        )
    assert raised.value.response["error"] == "invalid_blocks_format"


def test_a_response_url_refuses_invalid_blocks_with_400(
    server: SandboxServer, workspace: Workspace
) -> None:
    target = ResponseTarget(channel=TUNEBOT_CHANNEL.id, user=BOB.id)
    token = workspace.new_response_url_token(target)
    webhook = WebhookClient(f"{server.url}/response/{token}")
    refused = webhook.send(text="x", blocks=INVALID_BLOCKS["button text over 75"])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    assert workspace.messages == []
    assert webhook.send(text="fine", blocks=CARD).status_code == 200


MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Apply"},
    "blocks": [_section("Sure?")],
}
INVALID_VIEWS = {
    "101 blocks": {**MODAL, "blocks": [{"type": "divider"}] * 101},
    "title over 24": {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}},
    "unknown view field": {**MODAL, "colour": "red"},
    "invalid block": {**MODAL, "blocks": [_section("x" * 3001)]},
}


@pytest.mark.parametrize("view", INVALID_VIEWS.values(), ids=INVALID_VIEWS.keys())
def test_views_slack_would_refuse_are_refused(
    client: WebClient, workspace: Workspace, view: dict[str, object]
) -> None:
    trigger = workspace.new_trigger(ALICE.id)
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id=trigger, view=view)
    assert raised.value.response["error"] == "invalid_arguments"
    assert raised.value.response["response_metadata"]["messages"]
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    with pytest.raises(SlackApiError) as updated:
        client.views_update(view_id=opened["id"], view=view)
    assert updated.value.response["error"] == "invalid_arguments"
    home = {**view, "type": "home"}
    home.pop("title", None)
    if view is not INVALID_VIEWS["title over 24"]:
        with pytest.raises(SlackApiError) as published:
            client.views_publish(user_id=ALICE.id, view=home)
        assert published.value.response["error"] == "invalid_arguments"


def test_a_home_view_with_100_blocks_is_allowed_but_a_modal_is_not_a_home(
    client: WebClient,
) -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}] * 100}
    assert client.views_publish(user_id=ALICE.id, view=home)["ok"]
    with pytest.raises(SlackApiError) as raised:
        client.views_publish(user_id=ALICE.id, view=MODAL)
    assert raised.value.response["error"] == "invalid_arguments"


def test_a_reload_drops_ephemeral_messages(server: SandboxServer, workspace: Workspace) -> None:
    workspace.post_message(TUNEBOT_CHANNEL.id, "for everyone")
    workspace.post_message(TUNEBOT_CHANNEL.id, "only Carol", ephemeral_to=CAROL.id)
    request = urllib.request.Request(
        f"{server.url}/sandbox/reload",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"dropped": 1}
    assert [m["text"] for m in workspace.state_for(CAROL.id)["messages"]] == ["for everyone"]


def test_replacing_an_ephemeral_message_a_reload_dropped_is_ok_and_shows_nothing(
    server: SandboxServer, workspace: Workspace
) -> None:
    message = workspace.post_message(TUNEBOT_CHANNEL.id, "card", ephemeral_to=CAROL.id)
    token = workspace.new_response_url_token(
        ResponseTarget(
            channel=TUNEBOT_CHANNEL.id, user=CAROL.id, message_ts=message.ts, ephemeral=True
        )
    )
    workspace.drop_ephemeral()
    sent = WebhookClient(f"{server.url}/response/{token}").send(text="x", replace_original=True)
    assert sent.status_code == 200
    assert workspace.messages == []

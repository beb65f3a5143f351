"""``slack/manifest.yml`` creates an app that matches what the bot listens to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def manifest() -> Any:
    return yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())


def test_manifest_declares_the_command_events_interactivity_and_scopes() -> None:
    app = manifest()
    commands = app["features"]["slash_commands"]
    assert [command["command"] for command in commands] == ["/tune"]
    assert app["features"]["app_home"]["home_tab_enabled"] is True
    settings = app["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert sorted(app["oauth_config"]["scopes"]["bot"]) == sorted(
        ["commands", "chat:write", "chat:write.public", "usergroups:read", "files:write"]
    )
    urls = {
        commands[0]["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert urls == {"https://YOUR-FUNCTION-URL/"}


# What in the code needs each scope (chat:write.public: alerts post to channels the bot was
# never invited to, by the tunebot:channel tag or TUNEBOT_DEFAULT_CHANNEL).
SCOPE_USES = {
    "commands": ('app.command("/tune")',),
    "chat:write": ("chat_postMessage(", "chat_update(", "chat_postEphemeral("),
    "chat:write.public": ("chat_postMessage(",),
    "usergroups:read": ("usergroups_users_list(",),
    # The benchmark chart, uploaded for the result card's image block.
    "files:write": ("files_upload_v2(",),
}


def test_every_scope_is_used_and_no_other_is_asked_for() -> None:
    code = "\n".join(
        path.read_text() for folder in ("bot", "handlers") for path in (ROOT / folder).glob("*.py")
    )
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == sorted(SCOPE_USES)
    for scope in scopes:
        assert all(use in code for use in SCOPE_USES[scope]), scope


def test_docs_name_every_scope_and_setting() -> None:
    docs = (ROOT / "docs" / "slack.md").read_text()
    for scope in manifest()["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in docs
    for variable in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_SECRET_ARN",
        "SLACK_API_URL",
        "TUNEBOT_TABLE",
        "TUNEBOT_POLICY",
        "TUNEBOT_APPLY_MODE",
        "TUNEBOT_MANAGED_TAG",
        "TUNEBOT_DEFAULT_CHANNEL",
    ):
        assert f"`{variable}`" in docs

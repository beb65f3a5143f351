"""Drives ``handlers.slack.handler`` the way Slack does: signed Function URL events in, Web API
calls out to a local fake Slack, lazy listeners through the in-process runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import handlers.slack as slack_handler
from fakes.services import NOW
from fakes.slack import (
    FakeSlack,
    block_action_body,
    function_url_event,
    running_fake_slack,
    slash_command_body,
)
from service.api import TunebotServices

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0OPS"


@dataclass
class SlackHarness:
    slack: FakeSlack
    runner: slack_handler.InProcessLazyRunner

    def send(self, body: str, **kwargs: Any) -> dict[str, Any]:
        return slack_handler.handler(function_url_event(body, SIGNING_SECRET, **kwargs), None)

    def command(self, text: str, user: str = "UALICE1", run_lazy: bool = True) -> dict[str, Any]:
        body = slash_command_body(
            text, user_id=user, channel_id=CHANNEL, response_url=self.slack.response_url("cmd")
        )
        response = self.send(body)
        if run_lazy:
            self.runner.run_pending()
        return response

    def click(
        self,
        action_id: str,
        value: str,
        user: str = "UALICE1",
        blocks: list[dict[str, Any]] | None = None,
        ts: str = "1700000000.000001",
        run_lazy: bool = True,
    ) -> dict[str, Any]:
        body = block_action_body(
            action_id,
            value,
            user_id=user,
            channel_id=CHANNEL,
            message_ts=ts,
            blocks=blocks if blocks is not None else self.last_card(),
            response_url=self.slack.response_url("action"),
        )
        response = self.send(body)
        if run_lazy:
            self.runner.run_pending()
        return response

    def last_card(self) -> list[dict[str, Any]]:
        """The blocks of the card posted or updated last (thread replies aside)."""
        for call in reversed(self.slack.calls):
            if call.method == "chat.update" or (
                call.method == "chat.postMessage" and not call.args.get("thread_ts")
            ):
                return list(call.args["blocks"])
        return []

    def ephemeral_texts(self) -> list[str]:
        return [call["text"] for call in self.slack.calls_to("chat.postEphemeral")]


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id:
            return dict(accessory)
    raise AssertionError(f"no {action_id} button in {json.dumps(blocks)[:500]}")


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running_fake_slack() as fake:
        yield fake


@pytest.fixture
def harness_factory(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def make(services: TunebotServices, policy: dict[str, Any] | None, **env: str) -> SlackHarness:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        monkeypatch.delenv("SLACK_SECRET_ARN", raising=False)
        if policy is None:
            monkeypatch.delenv("TUNEBOT_POLICY", raising=False)
        else:
            monkeypatch.setenv("TUNEBOT_POLICY", json.dumps(policy))
        for name in ("TUNEBOT_APPLY_MODE", "TUNEBOT_MANAGED_TAG"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runner = slack_handler.InProcessLazyRunner()
        slack_handler.configure(services=services, lazy_runner=runner, now=lambda: NOW)
        return SlackHarness(slack=slack, runner=runner)

    yield make
    slack_handler.configure()

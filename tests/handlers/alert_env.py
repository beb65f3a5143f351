"""A running alert runtime for handler tests: moto DynamoDB (state + idempotency tables),
the fake Slack Web API on 127.0.0.1, and the in-memory bot services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from slack_sdk import WebClient

from aws.session import AwsSession
from aws.store import StateStore, create_tables
from bot.alerts import SlackPoster
from bot.settings import BotSettings
from fakes.services import InMemoryServices
from fakes.slack import FakeSlack, running_fake_slack
from handlers.alerting import AlertRuntime, configure

TABLE = "tunebot-test"
IDEMPOTENCY_TABLE = "tunebot-idempotency-test"
DEFAULT_CHANNEL = "C0DEFAULT"


class FakeContext:
    function_name = "tunebot-alerts"
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tunebot-alerts"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class AlertEnv:
    runtime: AlertRuntime
    slack: FakeSlack
    services: InMemoryServices
    store: StateStore
    session: AwsSession

    def posts(self) -> list[dict[str, Any]]:
        return self.slack.calls_to("chat.postMessage")

    def updates(self) -> list[dict[str, Any]]:
        return self.slack.calls_to("chat.update")


@contextmanager
def alert_env(
    services: InMemoryServices,
    *,
    region: str = "us-east-1",
    default_channel: str | None = DEFAULT_CHANNEL,
    environ: dict[str, str] | None = None,
) -> Iterator[AlertEnv]:
    with mock_aws(), running_fake_slack() as slack:
        session = AwsSession(boto3.Session(region_name=region), region=region, max_attempts=1)
        create_tables(TABLE, IDEMPOTENCY_TABLE, client=session.client("dynamodb"))
        store = StateStore(TABLE, session.client("dynamodb"))
        runtime = AlertRuntime(
            settings=BotSettings(default_channel=default_channel),
            services=services,
            store=store,
            poster=SlackPoster(WebClient(token="xoxb-test", base_url=slack.api_url)),
            session=session,
            default_channel=default_channel,
            environ={"TUNEBOT_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE, **(environ or {})},
        )
        configure(runtime)
        env = AlertEnv(runtime, slack, services, store, session)
        try:
            yield env
        finally:
            configure(None)
        # Whatever a test checks, every message sent must be valid Block Kit.
        for args in [*env.posts(), *env.updates()]:
            validate_blocks(args["blocks"])


def validate_blocks(blocks: list[dict[str, Any]]) -> None:
    from slack_sdk.models.blocks import Block

    assert 0 < len(blocks) <= 50
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()


def emitted(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """(metric totals from the EMF lines, structured log records) printed so far."""
    totals: dict[str, float] = {}
    logs: list[dict[str, Any]] = []
    for line in capsys.readouterr().out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if "_aws" in record:
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = record[metric["Name"]]
                    values = value if isinstance(value, list) else [value]
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
        else:
            logs.append(record)
    return totals, logs


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b.get("type") == "section" and "text" in b]

"""The alarm handler built from the environment, as in Lambda: the real wiring (scan, rules,
store) against moto, only Slack faked. Cards route by the function's tag, their buttons resolve
through the real store, and a deleted function still gets a short card."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from aws.store import StateStore, create_tables
from fakes.scan_seed import create_function, create_role, python_zip
from fakes.slack import FakeSlack, running_fake_slack
from handlers import alerting
from handlers.alarm import handler
from tests.alert_events import load
from tests.handlers.alert_env import FakeContext, section_texts

TABLE = "tunebot-alarm-moto"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with mock_aws(), running_fake_slack() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
        monkeypatch.setenv("TUNEBOT_IDEMPOTENCY_TABLE", "tunebot-idem-moto")
        monkeypatch.setenv("TUNEBOT_DEFAULT_CHANNEL", "C0DEFAULT")
        create_tables(TABLE, "tunebot-idem-moto", client=boto3.client("dynamodb"))
        lam = boto3.client("lambda")
        create_function(
            lam,
            "orders-worker",
            role=create_role(boto3.client("iam")),
            code=python_zip(),
            memory=1024,
            tags={"tunebot:channel": "C0ORDERS", "tunebot:managed": "true"},
        )
        alerting.configure(None)
        try:
            yield fake
        finally:
            alerting.configure(None)


def alarm(state: str, delivery: str, when: str) -> dict[str, object]:
    event = copy.deepcopy(load("eventbridge-alarm-lambda-duration.json"))
    event["id"] = delivery
    event["detail"]["state"]["value"] = state
    event["detail"]["state"]["timestamp"] = when
    return event


def test_alarm_card_from_the_real_wiring_then_the_function_is_deleted(slack: FakeSlack) -> None:
    handler(alarm("ALARM", "eb-1", "2026-11-26T10:00:00.000+0000"), FakeContext())
    (post,) = slack.calls_to("chat.postMessage")
    assert post["channel"] == "C0ORDERS"
    assert post["blocks"][0]["text"]["text"] == "Alarm: orders-worker-p99-duration"
    assert "*`orders-worker`* · us-east-1" in section_texts(post["blocks"])
    store = StateStore(TABLE, boto3.client("dynamodb"))
    buttons = [
        element["value"]
        for block in post["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "tune_details"
    ]
    assert all(store.get_recommendation(value) is not None for value in buttons)

    boto3.client("lambda").delete_function(FunctionName="orders-worker")
    handler(alarm("OK", "eb-2", "2026-11-26T10:30:00.000+0000"), FakeContext())
    (update,) = slack.calls_to("chat.update")
    assert update["ts"] == slack.calls_to("chat.postMessage")[1]["thread_ts"]
    assert update["channel"] == "C0ORDERS"  # the thread stays where it started
    assert (
        "*`orders-worker`* · us-east-1\n:warning: The function no longer exists in us-east-1."
        in section_texts(update["blocks"])
    )

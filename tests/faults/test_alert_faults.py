"""Fault injection: a failure at each AWS and DynamoDB call of alert posting, and at Slack.

The real alarm handler (``handlers.alarm.handler``, its runtime wired as in Lambda: scan,
rules, state store, Powertools idempotency) handles one alarm on a moto-seeded function once
cleanly while every botocore call is recorded; then once per recorded call with that one call
failing (throttle, 5xx, a timeout after AWS served the request, a conditional-check failure;
the same hooks as ``test_change_faults.py``). Slack is the fake Web API, told to answer
``chat.postMessage`` once with HTTP 429 or 500.

``docs/alerts.md`` ("Failure behaviour") promises: a transient failure raises so Lambda retries,
nothing is dropped silently. So each run must either post exactly one card or raise; then
Lambda retries the same event (a minute later, then two, as it does for asynchronous events)
until it succeeds, and Slack must hold exactly one card for the alarm, with the alert-thread
record in the state table pointing at it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from slack_sdk import WebClient

from aws.session import AwsSession
from aws.store import StateStore, create_tables
from bot.alerts import SlackPoster
from bot.settings import BotSettings
from fakes.scan_seed import create_function, create_role, python_zip
from fakes.slack import FakeSlack, running_fake_slack
from handlers import alerting
from handlers.alarm import handler
from handlers.compose import build_services
from tests.alert_events import load
from tests.faults.test_change_faults import KINDS, Injector
from tests.handlers.alert_env import FakeContext

REGION = "us-east-1"
TABLE = "tunebot-alert-faults"
IDEMPOTENCY = TABLE + "-idem"
FUNCTION = "orders-worker"
CHANNEL = "C0ORDERS"
START = datetime(2026, 11, 26, 10, 0, 30, tzinfo=UTC)
# Lambda retries an asynchronous event after about one minute, then after two more.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2))


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    slack: FakeSlack
    injector: Injector
    clock: Clock
    # ts of every chat.postMessage Slack accepted, with its arguments
    accepted: list[tuple[str, dict[str, Any]]]

    def cards(self) -> list[tuple[str, dict[str, Any]]]:
        """Top-level messages (not thread replies) Slack holds."""
        return [(ts, args) for ts, args in self.accepted if not args.get("thread_ts")]

    def pass_time(self, delay: timedelta) -> None:
        """Time passes before Lambda's retry: for tunebot's clock, and for Powertools, whose
        in-progress record of an invocation that died expires with that invocation."""
        self.clock.now += delay
        client = boto3.client("dynamodb", region_name=REGION)
        for item in client.scan(TableName=IDEMPOTENCY)["Items"]:
            if item.get("status", {}).get("S") == "INPROGRESS":
                client.update_item(
                    TableName=IDEMPOTENCY,
                    Key={"id": item["id"]},
                    UpdateExpression="SET in_progress_expiration = :past",
                    ExpressionAttributeValues={":past": {"N": "0"}},
                )

    def threads(self) -> list[dict[str, Any]]:
        client = boto3.client("dynamodb", region_name=REGION)
        items = client.scan(TableName=TABLE)["Items"]
        return [
            {key: next(iter(value.values())) for key, value in item.items()}
            for item in items
            if item.get("kind", {}).get("S") == "alert_thread"
        ]


def alarm_event() -> dict[str, Any]:
    event = copy.deepcopy(load("eventbridge-alarm-lambda-duration.json"))
    event["id"] = "eb-faults-1"
    event["detail"]["state"]["value"] = "ALARM"
    event["detail"]["state"]["timestamp"] = "2026-11-26T10:00:00.000+0000"
    return event


@pytest.fixture
def world_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], World]]:
    with mock_aws(), running_fake_slack() as slack:
        real_answer = slack.answer
        accepted: list[tuple[str, dict[str, Any]]] = []

        def answer(method: str, args: dict[str, Any]) -> dict[str, Any]:
            reply = real_answer(method, args)
            if method == "chat.postMessage" and reply.get("ok"):
                accepted.append((str(reply["ts"]), args))
            return reply

        monkeypatch.setattr(slack, "answer", answer)
        iam = boto3.client("iam", region_name=REGION)
        role = create_role(iam)
        code = python_zip()

        def make() -> World:
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            if TABLE in dynamodb.list_tables()["TableNames"]:
                dynamodb.delete_table(TableName=TABLE)
                dynamodb.delete_table(TableName=IDEMPOTENCY)
            create_tables(TABLE, IDEMPOTENCY, client=dynamodb)
            lam = boto3.client("lambda", region_name=REGION)
            if any(f["FunctionName"] == FUNCTION for f in lam.list_functions()["Functions"]):
                lam.delete_function(FunctionName=FUNCTION)
            create_function(
                lam,
                FUNCTION,
                role=role,
                code=code,
                memory=1024,
                tags={"tunebot:channel": CHANNEL, "tunebot:managed": "true"},
            )
            slack.clear()
            slack.fail_next.clear()
            slack.rate_limit_next.clear()
            slack.server_error_next.clear()
            accepted.clear()
            injector = Injector()
            boto = boto3.Session(region_name=REGION)
            boto.events.register("before-call", injector.before)
            boto.events.register("after-call", injector.after)
            clock = Clock()
            session = AwsSession(boto, region=REGION)
            environ = {"TUNEBOT_TABLE": TABLE, "TUNEBOT_IDEMPOTENCY_TABLE": IDEMPOTENCY}
            services = build_services(environ, session=session, clock=clock)
            services.store._clock = clock
            store = StateStore(TABLE, session.client("dynamodb"), clock=clock)
            store._sleep = lambda seconds: None  # type: ignore[method-assign]
            alerting.configure(
                alerting.AlertRuntime(
                    settings=BotSettings.from_env_or_safe(environ),
                    services=services,
                    store=store,
                    poster=SlackPoster(WebClient(token="xoxb-test", base_url=slack.api_url)),
                    session=session,
                    default_channel="C0DEFAULT",
                    environ=environ,
                    now=clock,
                )
            )
            return World(slack, injector, clock, accepted)

        try:
            yield make
        finally:
            alerting.configure(None)


def deliver(world: World) -> dict[str, Any] | None:
    """One delivery of the alarm; None when the handler raised (Lambda will retry)."""
    try:
        [result] = handler(alarm_event(), FakeContext())["results"]
    except Exception:  # any raise is a retry by Lambda
        return None
    assert isinstance(result, dict)
    return result


def check_first_delivery(world: World, result: dict[str, Any] | None) -> None:
    """Posted exactly one card, or raised so Lambda retries: never a silent drop."""
    if result is None:
        assert len(world.cards()) <= 1, world.cards()
        return
    assert result.get("outcome") == "posted", result
    assert len(world.cards()) == 1, world.cards()


def check_settled(world: World) -> None:
    """Lambda delivers the same event again (a retry, or at-least-once delivery) until it
    succeeds: one card, and the thread record points at it."""
    result = None
    for delay in RETRY_DELAYS:
        world.pass_time(delay)
        result = deliver(world)
        if result is not None:
            break
    assert result is not None, "the retries kept failing"
    assert result.get("outcome") in ("posted", "updated"), result
    [(ts, card)] = world.cards()
    assert card["channel"] == CHANNEL
    [thread] = world.threads()
    assert (thread.get("channel"), thread.get("ts")) == (CHANNEL, ts), thread


def plan(calls: list[str]) -> list[tuple[int, str]]:
    """Each call once, the fault kinds taking turns; the state table's writes (where the
    alert thread is claimed and its card recorded) with every kind."""
    runs = [(index, KINDS[index % len(KINDS)]) for index in range(len(calls))]
    for index, call in enumerate(calls):
        if call in ("dynamodb.PutItem", "dynamodb.UpdateItem"):
            runs += [(index, kind) for kind in KINDS if (index, kind) not in runs]
    return runs


def test_a_clean_run_posts_one_card_and_records_its_thread(
    world_factory: Callable[[], World],
) -> None:
    world = world_factory()
    result = deliver(world)
    assert result is not None and result["outcome"] == "posted", result
    calls = list(world.injector.calls)
    # The alert path reads the function and claims and records its thread in the state table.
    assert "lambda.GetFunction" in calls or "lambda.GetFunctionConfiguration" in calls, calls
    assert "dynamodb.PutItem" in calls and "dynamodb.UpdateItem" in calls, calls
    [(ts, _)] = world.cards()
    [thread] = world.threads()
    assert thread["ts"] == ts


def test_a_failure_at_each_call_posts_one_card_after_lambdas_retry(
    world_factory: Callable[[], World],
) -> None:
    world = world_factory()
    assert deliver(world) is not None
    calls = list(world.injector.calls)
    for index, kind in plan(calls):
        call = calls[index]
        world = world_factory()
        world.injector.fail_at, world.injector.kind = index, kind
        result = deliver(world)
        assert world.injector.injected == call, (index, call, world.injector.calls)
        world.injector.fail_at = -1
        try:
            check_first_delivery(world, result)
            check_settled(world)
        except (AssertionError, ValueError) as error:
            raise AssertionError(
                f"{kind} at call {index} ({call}) of {json.dumps(world.injector.calls)}: {error}"
            ) from error


@pytest.mark.parametrize("status", [429, 500])
def test_slack_failing_the_post_once_is_retried_into_one_card(
    world_factory: Callable[[], World], status: int
) -> None:
    world = world_factory()
    if status == 429:
        world.slack.rate_limit_next.add("chat.postMessage")
    else:
        world.slack.server_error_next.add("chat.postMessage")
    result = deliver(world)
    assert result is None  # raised: Lambda retries
    assert world.slack.methods().count(f"chat.postMessage ({status})") == 1
    assert world.cards() == []
    check_settled(world)

"""Fuzzing ``handlers.slack.handler`` the way an attacker or a broken proxy would.

Two kinds of request: ones nobody signed (any method, any headers, any event shape), which must
all be a 400 or 401; and ones signed with the real secret whose bodies are Slack's own
payloads mutated (the documented block_actions example, tunebot's buttons on a real card, slash
commands, App Home events), which must be answered 200, 400 or 404, never 500, and whose lazy
work must never fail on their shape. Throughout, the Lambda functions in moto keep their
configuration: no fuzzed click is from a user the policy lets apply.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

import handlers.slack as slack_handler
from aws.session import AwsSession
from aws.store import create_tables
from fakes.services import NOW, InMemoryServices
from fakes.slack import (
    FakeSlack,
    block_action_body,
    function_url_event,
    running_fake_slack,
    slash_command_body,
)
from handlers.compose import build_services
from tests.conftest import FIXTURES
from tests.fuzz.mutations import FUZZ, json_values, mutated, nested_text
from tests.handlers.test_slack_moto import HalveMemory, _create_function

SECRET = "fuzz-signing-secret-0123456789abcdef"
REGION = "us-east-1"
TABLE = "tunebot-fuzz"
CHANNEL = "C0FUZZ"
# Only UALICE1 may apply; every fuzzed request comes from someone else.
POLICY = {"appliers": ["UALICE1"], "rules": []}
OTHERS = st.sampled_from(["UMALLORY1", "UBOB1", "UADMIN1", ""]) | st.text(max_size=12)
ACTIONS = [
    "tune_apply",
    "tune_undo",
    "tune_dismiss",
    "tune_benchmark",
    "tune_details",
    "tune_details_push",
    "tune_show_more",
    "tune_list_page",
    "tune_savings_all",
    "tune_savings_page",
]
SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError)


class _Errors(logging.Handler):
    """Log records at ERROR with an exception of the kind a payload's shape causes."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], SHAPE_ERRORS):
            self.records.append(record)


@contextmanager
def _errors_logged() -> Iterator[_Errors]:
    errors = _Errors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        yield errors
    finally:
        root.removeHandler(errors)


@dataclass
class _Bot:
    slack: FakeSlack
    runner: slack_handler.InProcessLazyRunner
    card: list[dict[str, Any]]
    recommendation_id: str


def _configurations() -> dict[str, Any]:
    client = boto3.client("lambda", region_name=REGION)
    functions = client.list_functions()["Functions"]
    return {
        fn["FunctionName"]: (
            fn["MemorySize"],
            fn["Timeout"],
            fn.get("Architectures"),
            fn.get("Environment"),
            client.list_tags(Resource=fn["FunctionArn"])["Tags"],
        )
        for fn in functions
    }


@pytest.fixture(scope="module")
def bot() -> Iterator[_Bot]:
    """One Slack function over moto for all signed fuzzing (built once: it takes seconds)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _bot(monkeypatch)


def _bot(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Bot]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-fuzz")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
    monkeypatch.setenv("TUNEBOT_POLICY", json.dumps(POLICY))
    monkeypatch.delenv("SLACK_SECRET_ARN", raising=False)
    with mock_aws(), running_fake_slack() as slack:
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        create_tables(
            TABLE, "tunebot-fuzz-idem", client=boto3.client("dynamodb", region_name=REGION)
        )
        _create_function("checkout-api", 1024, {"tunebot:managed": "true"})
        _create_function("orders-prod", 2048, {"tunebot:managed": "true", "env": "prod"})
        services = build_services(
            session=AwsSession(region=REGION),
            rules=[HalveMemory()],
            scan_packages=False,
            clock=lambda: NOW,
        )
        runner = slack_handler.InProcessLazyRunner()
        slack_handler.configure(services=services, lazy_runner=runner, now=lambda: NOW)
        body = slash_command_body(
            "checkout-api",
            user_id="UALICE1",
            channel_id=CHANNEL,
            response_url=slack.response_url("seed"),
        )
        slack_handler.handler(function_url_event(body, SECRET), None)
        runner.run_pending()
        card = slack.calls_to("chat.postMessage")[0]["blocks"]
        apply = next(
            element
            for block in card
            for element in block.get("elements", [])
            if element.get("action_id") == "tune_apply"
        )
        try:
            yield _Bot(slack, runner, card, str(apply["value"]))
        finally:
            slack_handler.configure()


# ---- unsigned requests ---------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [
        "x-slack-request-timestamp",
        "X-Slack-Request-Timestamp",
        "x-slack-signature",
        "content-type",
        "x-slack-bolt-lazy-only",
        "x-slack-bolt-lazy-function-name",
        "x-tunebot-lazy-seal",
        "x-slack-retry-num",
    ]
) | st.text(max_size=10)
HEADER_VALUES = (
    st.text(max_size=30)
    | st.integers(min_value=0, max_value=10**12).map(str)
    | st.integers(min_value=4300, max_value=6000).map(lambda n: "9" * n)
    | st.text(alphabet="0123456789abcdef\u00e9", min_size=60, max_size=70).map(lambda h: "v0=" + h)
    | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: "v1=" + h)
)


@st.composite
def unsigned_events(draw: st.DrawFn) -> Any:
    body = draw(
        st.sampled_from(["", "command=%2Ftune&text=scan", '{"type":"event_callback"}'])
        | st.text(max_size=60)
    )
    event = function_url_event(body, "not-the-secret")
    headers = dict(event["headers"])
    headers.update(draw(st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=6)))
    # Whatever else changed, the signature is not one made with the secret.
    headers["x-slack-signature"] = draw(HEADER_VALUES)
    event["headers"] = headers
    event["requestContext"]["http"]["method"] = draw(
        st.sampled_from(["POST", "GET", "NONE", "PUT"])
    )
    if draw(st.booleans()):
        return draw(mutated(event))
    return event


@pytest.fixture
def in_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, InMemoryServices]]:
    """The handler over in-memory services and the fake Slack."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-fuzz")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_SECRET_ARN", raising=False)
    services = InMemoryServices()
    runner = slack_handler.InProcessLazyRunner()
    with running_fake_slack() as slack:
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        slack_handler.configure(services=services, lazy_runner=runner, now=lambda: NOW)
        try:
            yield runner, services
        finally:
            slack_handler.configure()


def test_unsigned_requests_of_any_shape_get_400_or_401(
    in_memory: tuple[Any, InMemoryServices], capsys: pytest.CaptureFixture[str]
) -> None:
    runner, services = in_memory

    @FUZZ
    @given(unsigned_events())
    def run(event: Any) -> None:
        response = slack_handler.handler(event, None)
        assert response["statusCode"] in (400, 401), response
        assert runner.pending == []
        assert services.deliveries == set()

    try:
        run()
    finally:
        capsys.readouterr()


def test_a_sealed_lazy_event_cannot_be_stretched_to_another_body(
    in_memory: tuple[Any, InMemoryServices], capsys: pytest.CaptureFixture[str]
) -> None:
    """Lazy events carry tunebot's seal; any change to what it covers is a 401."""
    runner, services = in_memory
    body = slash_command_body(
        "checkout-api", user_id="UMALLORY1", channel_id=CHANNEL, response_url="http://127.0.0.1:9"
    )
    slack_handler.handler(function_url_event(body, SECRET), None)
    (sealed,) = runner.pending
    runner.pending.clear()

    @FUZZ
    @given(st.text(min_size=1, max_size=40), st.sampled_from(["body", "name", "ts", "type"]))
    def run(change: str, where: str) -> None:
        event = json.loads(json.dumps(sealed))
        headers = event["headers"]
        if where == "body":
            event["body"] = event["body"] + "&" + urlencode({"x": change})
        elif where == "name":
            headers["x-slack-bolt-lazy-function-name"] += change
        elif where == "ts":
            headers["x-slack-request-timestamp"] += change
        else:
            headers["content-type"] += change
        assert slack_handler.handler(event, None)["statusCode"] == 401
        assert services.deliveries == set()

    try:
        run()
    finally:
        capsys.readouterr()


# ---- signed requests with Slack's payloads mutated ---------------------------------------


def _docs_example(bot: _Bot) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        (FIXTURES / "slack" / "block-actions-docs-example.json").read_text()
    )
    # Never Slack's real hooks: any reply goes to the local fake.
    payload["response_url"] = bot.slack.response_url("docs")
    return payload


@st.composite
def signed_bodies(draw: st.DrawFn, bot: _Bot, kind: str) -> tuple[str, str]:
    """(body, content type) of a signed request of one kind: a click on one of tunebot's
    buttons (``tune_…``), Slack's documented example, a slash command, an event, raw text."""
    if kind.startswith("tune_") or kind == "docs":
        if kind == "docs":
            payload = _docs_example(bot)
        else:
            body = block_action_body(
                kind,
                draw(st.sampled_from([bot.recommendation_id, "0", "rec-0", "x|1"])),
                user_id=draw(OTHERS),
                channel_id=CHANNEL,
                message_ts="1700000000.000001",
                blocks=bot.card,
                response_url=bot.slack.response_url("action"),
            )
            from urllib.parse import parse_qs

            payload = json.loads(parse_qs(body)["payload"][0])
        return urlencode({"payload": json.dumps(draw(mutated(payload)))}), "form"
    if kind == "command":
        fields = {
            "command": "/tune",
            "text": draw(
                st.sampled_from(["checkout-api", "orders-prod", "help", "scan", ""])
                | st.text(max_size=30)
            ),
            "user_id": draw(OTHERS),
            "channel_id": CHANNEL,
            "response_url": bot.slack.response_url("cmd"),
            "trigger_id": "1.2.3",
        }
        extra = draw(st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=3))
        return urlencode({**fields, **extra}), "form"
    if kind == "event":
        event = {
            "type": "event_callback",
            "team_id": "T0001",
            "event": {"type": "app_home_opened", "user": draw(OTHERS), "tab": "home"},
        }
        return json.dumps(draw(mutated(event))), "json"
    text = draw(st.text(max_size=80) | nested_text | json_values.map(json.dumps))
    return text, draw(st.sampled_from(["json", "form"]))


# Each kind gets its own examples: Hypothesis favours the first of several choices.
@pytest.mark.parametrize(
    ("kind", "examples"),
    [
        *((action, 12) for action in ACTIONS),
        ("docs", 40),
        ("command", 50),
        ("event", 30),
        ("raw", 30),
    ],
)
def test_signed_requests_with_mutated_payloads_never_fail_or_change_a_function(
    bot: _Bot, kind: str, examples: int, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _configurations()

    @settings(FUZZ, max_examples=examples)
    @given(signed_bodies(bot, kind))
    def run(request: tuple[str, str]) -> None:
        body, kind = request
        content_type = "application/json" if kind == "json" else "application/x-www-form-urlencoded"
        with _errors_logged() as errors:
            response = slack_handler.handler(
                function_url_event(body, SECRET, content_type=content_type), None
            )
            assert response["statusCode"] in (200, 400, 404), (response, body[:300])
            if response["statusCode"] == 400:
                assert json.loads(response["body"]) == {
                    "error": "Expected a Slack request body of a known shape."
                }
            bot.runner.run_pending()
        assert errors.records == [], [r.getMessage() for r in errors.records]

    try:
        run()
    finally:
        capsys.readouterr()
    assert _configurations() == before

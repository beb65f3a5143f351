# ruff: noqa: F811  (the harness fixtures are imported, then requested by name)
"""The wiring's other paths over HTTP: secrets from Secrets Manager, and Benchmark first with
the simulator invoker, against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import aws.secrets
import handlers.slack as slack_handler
from aws.invokers.simulator import SimulatorInvoker
from aws.session import AwsSession
from aws.store import create_tables
from fakes.services import NOW
from handlers import compose
from handlers.compose import build_services
from recommendations.snapshot import FunctionSnapshot
from recommendations.tuning.profile import SimulationProfile
from service.tunebot import Tunebot
from tests.handlers.slack_harness import (  # noqa: F401  (pytest fixtures)
    SIGNING_SECRET,
    SlackHarness,
    all_text,
    button,
    harness_factory,
    slack,
)
from tests.handlers.test_slack_moto import REGION, TABLE, HalveMemory, _create_function, memory_of

POLICY = {"appliers": ["UALICE1"]}
PROFILE = SimulationProfile(
    cpu_ms=400, parallel_fraction=0.1, io_ms=20, memory_used_mb=150, noise_cv=0.02, memory_mb=2048
)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
    aws.secrets._values.clear()
    with mock_aws():
        create_tables(TABLE, "idem", client=boto3.client("dynamodb", region_name=REGION))
        _create_function("report-builder", 2048, {"tunebot:managed": "true"})
        yield
    aws.secrets._values.clear()


def services(invoker: bool) -> Tunebot:
    def simulate(fn: FunctionSnapshot) -> SimulatorInvoker:
        assert fn.name == "report-builder"
        return SimulatorInvoker(PROFILE, seed=7)

    return build_services(
        session=AwsSession(region=REGION),
        rules=[HalveMemory()],
        scan_packages=False,
        invoker_factory=simulate if invoker else None,
        clock=lambda: NOW,
    )


def test_benchmark_first_posts_a_measured_recommendation_that_applies(
    aws_env: None, harness_factory: Any
) -> None:
    bot: SlackHarness = harness_factory(services(invoker=True), POLICY)
    bot.command("report-builder")
    card = bot.last_card()
    bot.click("tune_benchmark", button(card, "tune_benchmark")["value"])
    assert bot.ephemeral_texts() == [
        "Benchmarking report-builder; the result will follow in a thread."
    ]
    thread = bot.slack.calls_to("chat.postMessage")[-1]
    assert thread["thread_ts"] == "1700000000.000001"
    text = all_text(thread["blocks"])
    assert "Benchmark of `report-builder`" in text
    apply = button(thread["blocks"], "tune_apply")
    confirm = apply["confirm"]["text"]["text"]
    assert confirm.startswith("Set memory of report-builder from 2048 MB to ")
    measured = int(confirm.rsplit(" to ", 1)[1].removesuffix(" MB"))
    assert 128 <= measured < 2048

    bot.click("tune_apply", apply["value"], blocks=thread["blocks"], ts="1700000000.000009")
    assert memory_of("report-builder") == measured
    update = bot.slack.calls_to("chat.update")[-1]
    assert update["ts"] == "1700000000.000009"
    assert "Applied by <@UALICE1>" in all_text(update["blocks"])


def test_benchmark_without_an_invoker_is_explained(aws_env: None, harness_factory: Any) -> None:
    bot: SlackHarness = harness_factory(services(invoker=False), POLICY)
    bot.command("report-builder")
    bot.click("tune_benchmark", button(bot.last_card(), "tune_benchmark")["value"])
    assert bot.ephemeral_texts()[-1] == (
        "Benchmarks are not available in this deployment: no benchmark invoker is configured. "
        "Run `tunebot tune` from a workstation instead."
    )


def test_slack_secrets_come_from_secrets_manager(
    aws_env: None, harness_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot: SlackHarness = harness_factory(services(invoker=False), POLICY)
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="tunebot/slack",
        SecretString=json.dumps(
            {"SLACK_BOT_TOKEN": "xoxb-from-secret", "SLACK_SIGNING_SECRET": SIGNING_SECRET}
        ),
    )["ARN"]
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    monkeypatch.setenv("SLACK_SECRET_ARN", arn)
    slack_handler.configure(services=services(invoker=False), lazy_runner=bot.runner)
    response = bot.command("help", run_lazy=False)
    assert response["statusCode"] == 200
    assert compose.read_slack_secret(arn)["SLACK_BOT_TOKEN"] == "xoxb-from-secret"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "Could not read the Slack secret"),
        ("not json", "is not a JSON object string"),
        ('["a"]', "is not a JSON object."),
    ],
)
def test_unreadable_secrets_are_one_sentence(
    aws_env: None, secret: str | None, message: str
) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    if secret is not None:
        arn = client.create_secret(Name="bad", SecretString=secret)["ARN"]
    with pytest.raises(RuntimeError, match=message):
        compose.read_slack_secret(arn)

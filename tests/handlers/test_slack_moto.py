# ruff: noqa: F811  (the harness fixtures are imported, then requested by name)
"""The Slack HTTP path end to end against moto: real wiring, real DynamoDB store and audit,
real Lambda configuration changes. Only Slack is faked (a local HTTP server)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any, ClassVar

import boto3
import pytest
from moto import mock_aws

from aws.session import AwsSession
from aws.store import create_tables
from fakes.services import NOW
from handlers.compose import build_services
from recommendations.changes import MemoryChange
from recommendations.recommendation import Category, Confidence, Recommendation, Severity
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.snapshot import FunctionSnapshot
from service.tunebot import Tunebot
from tests.handlers.slack_harness import (  # noqa: F401  (pytest fixtures)
    SlackHarness,
    all_text,
    button,
    harness_factory,
    slack,
)

REGION = "us-east-1"
TABLE = "tunebot-slack-test"
POLICY = {
    "admins": ["UADMIN1"],
    "appliers": ["UALICE1", "UBOB1"],
    "rules": [{"tag": "env=prod", "approvers": 2}],
}


class HalveMemory(Rule):
    """A test rule with a known answer.

    What it checks:
    Memory above 256 MB.

    Why it matters:
    It gives these tests one deterministic recommendation per function.

    What to do:
    Halve the memory.
    """

    rule_id = "TEST-HALF"
    name = "Halve memory"
    category = Category.MEMORY
    needs: ClassVar[tuple[str, ...]] = ("memory_mb",)

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.memory_mb <= 256:
            return self.passed("small already")
        after = fn.memory_mb // 2
        return self.recommend(
            Recommendation(
                function=fn.name,
                function_arn=fn.arn,
                region=fn.region,
                account_id=fn.account_id,
                rule_id=self.rule_id,
                category=self.category,
                severity=Severity.MEDIUM,
                title=f"Lower memory to {after} MB",
                rationale="Test rule.",
                confidence=Confidence.HIGH,
                change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=after),
                monthly_savings_usd=5.0,
            )
        )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def _create_function(name: str, memory: int, tags: dict[str, str]) -> None:
    iam = boto3.client("iam", region_name=REGION)
    try:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        MemorySize=memory,
        Timeout=30,
        Tags=tags,
    )


def memory_of(name: str) -> int:
    config = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=name
    )
    return int(config["MemorySize"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tunebot]:
    monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
    with mock_aws():
        create_tables(
            TABLE, "tunebot-idempotency-test", client=boto3.client("dynamodb", region_name=REGION)
        )
        _create_function("checkout-api", 1024, {"tunebot:managed": "true"})
        _create_function("orders-prod", 2048, {"tunebot:managed": "true", "env": "prod"})
        yield build_services(
            session=AwsSession(region=REGION),
            rules=[HalveMemory()],
            scan_packages=False,
            clock=lambda: NOW,
        )


@pytest.fixture
def bot(harness_factory: Any, aws: Tunebot) -> SlackHarness:
    harness: SlackHarness = harness_factory(aws, POLICY)
    return harness


def rec_on_card(bot: SlackHarness) -> str:
    return str(button(bot.last_card(), "tune_apply")["value"])


def rec_on_card_any(bot: SlackHarness) -> str:
    """The first recommendation on the card, also when it has no Apply button."""
    return str(button(bot.last_card(), "tune_dismiss")["value"])


def test_tune_apply_undo_through_dynamodb_and_lambda(bot: SlackHarness, aws: Tunebot) -> None:
    bot.command("checkout-api")
    card = bot.last_card()
    assert card[0]["text"]["text"] == "Tuning checkout-api"
    rec = rec_on_card(bot)
    stored = aws.store.get_recommendation(rec)
    assert stored is not None and stored.requested_by == "UALICE1"

    bot.click("tune_apply", rec)
    assert memory_of("checkout-api") == 512
    audit = aws.store.recent_audit(function="checkout-api")
    assert [(a.actor, a.result.value, a.before, a.after) for a in audit] == [
        ("slack:UALICE1", "applied", 1024, 512)
    ]
    updated = bot.last_card()
    assert "Applied by <@UALICE1>" in all_text(updated)
    undo = button(updated, "tune_undo")["value"]

    bot.click("tune_undo", undo, user="UBOB1")
    assert memory_of("checkout-api") == 1024
    assert "Undone by <@UBOB1>" in all_text(bot.last_card())
    assert len(aws.store.recent_audit(function="checkout-api")) == 2


def test_two_approvers_for_production_are_stored(bot: SlackHarness, aws: Tunebot) -> None:
    bot.command("orders-prod")
    rec = rec_on_card(bot)
    bot.click("tune_apply", rec, user="UALICE1")
    bot.click("tune_apply", rec, user="UALICE1")
    assert memory_of("orders-prod") == 2048
    assert [p.stored.recommendation.id for p in aws.pending_approvals(10)] == [rec]
    bot.click("tune_apply", rec, user="UBOB1")
    assert memory_of("orders-prod") == 1024
    change = aws.recent_changes(1)[0]
    assert (change.applied_by, change.approver_users) == ("UBOB1", ("UALICE1", "UBOB1"))


def test_unauthorised_click_changes_nothing(bot: SlackHarness) -> None:
    bot.command("checkout-api")
    bot.click("tune_apply", rec_on_card(bot), user="UMALLORY1")
    assert memory_of("checkout-api") == 1024
    assert bot.ephemeral_texts()[0].startswith("You are not allowed")


def test_stale_recommendation_is_refused(bot: SlackHarness, aws: Tunebot) -> None:
    bot.command("checkout-api")
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=1536
    )
    bot.click("tune_apply", rec_on_card(bot))
    assert memory_of("checkout-api") == 1536
    assert len(bot.ephemeral_texts()) == 1
    assert [a.result.value for a in aws.store.recent_audit(function="checkout-api")] == ["stale"]


def test_double_click_applies_once(bot: SlackHarness, aws: Tunebot) -> None:
    bot.command("checkout-api")
    card, rec = bot.last_card(), rec_on_card(bot)
    bot.click("tune_apply", rec, blocks=card, run_lazy=False)
    bot.click("tune_apply", rec, blocks=card, run_lazy=False)
    bot.runner.run_pending()
    assert memory_of("checkout-api") == 512
    assert len(aws.store.recent_audit(function="checkout-api")) == 1
    assert bot.ephemeral_texts()[0].startswith("Already done by <@UALICE1> as change chg-")


def test_dismissal_is_remembered_in_the_store(bot: SlackHarness, aws: Tunebot) -> None:
    bot.command("checkout-api")
    bot.click("tune_dismiss", rec_on_card(bot), user="UBOB1")
    assert [(d.rule_id, d.actor) for d in aws.store.dismissals("checkout-api")] == [
        ("TEST-HALF", "slack:UBOB1")
    ]
    bot.slack.clear()
    bot.command("checkout-api")
    assert "Nothing to change" in all_text(bot.last_card())


def test_unknown_function_lists_close_names(bot: SlackHarness) -> None:
    bot.command("checkout-apx")
    reply = bot.slack.calls_to("response/cmd")[0]
    assert "Did you mean: checkout-api" in all_text(reply["blocks"])


def test_home_tab_lists_pending_and_recent_changes(
    bot: SlackHarness, aws: Tunebot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_scan() -> None:
        raise AssertionError("the Home tab must not scan the fleet")

    monkeypatch.setattr(aws, "scan_fleet", no_scan)
    _create_function("idle-worker", 512, {})
    bot.command("idle-worker")
    bot.click("tune_dismiss", rec_on_card_any(bot), user="UBOB1")
    bot.command("orders-prod")
    bot.click("tune_apply", rec_on_card(bot), user="UALICE1")
    bot.command("checkout-api")
    bot.click("tune_apply", rec_on_card(bot), user="UALICE1")
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "api_app_id": "A123456",
            "event_id": "Ev1",
            "event": {"type": "app_home_opened", "user": "UBOB1", "tab": "home"},
        }
    )
    bot.send(body, content_type="application/json")
    bot.runner.run_pending()
    view = bot.slack.calls_to("views.publish")[-1]["view"]
    text = all_text(view["blocks"])
    assert "*orders-prod*: Lower memory to 1024 MB\\nApprovals: 1 of 2" in text
    assert "Set memory of checkout-api from 1024 MB to 512 MB\\napplied by <@UALICE1>" in text
    top = [
        block["text"]["text"].split("\n")[0]
        for block in view["blocks"]
        if block.get("block_id", "").endswith(":home")
    ]
    # From the store: the applied recommendation and the dismissed one are not savings to show.
    assert top == ["*orders-prod*: Lower memory to 1024 MB"]


def test_tune_scan_over_the_account(bot: SlackHarness) -> None:
    bot.command("scan")
    blocks = bot.slack.calls_to("chat.postMessage")[-1]["blocks"]
    text = all_text(blocks)
    assert "*$10.00/mo* could be saved across 2 functions." in text
    assert "*orders-prod*: Lower memory to 1024 MB" in text
    assert "*checkout-api*: Lower memory to 512 MB" in text
    bot.click("tune_details", button(blocks, "tune_details")["value"], blocks=blocks)
    opened = bot.slack.calls_to("views.open")[0]["view"]
    assert "MemorySize: " in all_text(opened["blocks"])


def test_a_bad_accounts_setting_is_explained(
    bot: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEBOT_ACCOUNTS", "[not json")
    bot.runner.pending.clear()
    import handlers.slack as slack_handler

    slack_handler.configure(
        services=build_services(
            session=AwsSession(region=REGION), rules=[HalveMemory()], scan_packages=False
        ),
        lazy_runner=bot.runner,
    )
    bot.command("scan")
    reply = bot.slack.calls_to("response/cmd")[-1]
    assert reply["text"].startswith("TUNEBOT_ACCOUNTS is not valid JSON")
    assert reply["response_type"] == "ephemeral"


def test_a_repeated_lazy_delivery_is_recognised_through_the_store(bot: SlackHarness) -> None:
    import handlers.slack as slack_handler

    bot.command("checkout-api")
    card = bot.last_card()
    bot.click("tune_apply", rec_on_card(bot), blocks=card, run_lazy=False)
    (lazy_event,) = bot.runner.pending
    bot.runner.pending.clear()
    slack_handler.handler(lazy_event, None)
    slack_handler.handler(lazy_event, None)
    assert memory_of("checkout-api") == 512
    # One card update, and no "already applied" message from the repeat.
    assert len(bot.slack.calls_to("chat.update")) == 1
    assert bot.ephemeral_texts() == []


def _lambda() -> Any:
    return boto3.client("lambda", region_name=REGION)


def _arn(name: str) -> str:
    return str(_lambda().get_function_configuration(FunctionName=name)["FunctionArn"])


def test_approvals_end_with_the_application_they_approved(bot: SlackHarness, aws: Tunebot) -> None:
    """Two people approve a production change, it is applied and undone: applying the same
    recommendation again needs two fresh approvals, not one click."""
    bot.command("orders-prod")
    rec = rec_on_card(bot)
    bot.click("tune_apply", rec, user="UALICE1")
    bot.click("tune_apply", rec, user="UBOB1")
    assert memory_of("orders-prod") == 1024
    change = aws.recent_changes(1)[0]
    bot.click("tune_undo", change.change_id, user="UALICE1")
    assert memory_of("orders-prod") == 2048

    bot.slack.clear()
    bot.click("tune_apply", rec, user="UBOB1")
    assert memory_of("orders-prod") == 2048
    assert "1 more distinct approver" in " ".join(bot.ephemeral_texts())
    bot.click("tune_apply", rec, user="UALICE1")
    assert memory_of("orders-prod") == 1024
    assert aws.recent_changes(1)[0].approvers == ("UBOB1", "UALICE1")


def test_apply_reads_the_managed_tag_at_apply_time(bot: SlackHarness) -> None:
    bot.command("checkout-api")
    rec = rec_on_card(bot)
    _lambda().untag_resource(Resource=_arn("checkout-api"), TagKeys=["tunebot:managed"])
    bot.click("tune_apply", rec)
    assert memory_of("checkout-api") == 1024
    assert bot.ephemeral_texts() == [
        "tunebot may not change checkout-api: it lacks the tag tunebot:managed=true."
    ]


def test_apply_reads_the_production_tag_at_apply_time(bot: SlackHarness) -> None:
    bot.command("checkout-api")
    rec = rec_on_card(bot)
    _lambda().tag_resource(Resource=_arn("checkout-api"), Tags={"env": "prod"})
    bot.click("tune_apply", rec)
    assert memory_of("checkout-api") == 1024
    bot.click("tune_apply", rec, user="UBOB1")
    assert memory_of("checkout-api") == 512


def test_an_alarm_after_apply_and_undo_shows_the_undone_change_with_apply_again(
    bot: SlackHarness, aws: Tunebot
) -> None:
    """Apply then Undo from Slack (signed requests), then an alarm for the same function: its
    card shows "Undone by" with Apply again, never "Applied by" with an Undo of the undo."""
    from slack_sdk import WebClient

    from aws.session import AwsSession as Session
    from bot.alerts import SlackPoster
    from bot.settings import BotSettings
    from fakes.slack import running_fake_slack
    from handlers.alarm import handler
    from handlers.alerting import AlertRuntime, configure
    from tests.alert_events import load
    from tests.handlers.alert_env import FakeContext

    _create_function("orders-worker", 1024, {"tunebot:managed": "true"})
    bot.command("orders-worker")
    rec = rec_on_card(bot)
    bot.click("tune_apply", rec)
    bot.click("tune_undo", button(bot.last_card(), "tune_undo")["value"], user="UBOB1")
    assert memory_of("orders-worker") == 1024

    with running_fake_slack() as alerts_slack:
        configure(
            AlertRuntime(
                settings=BotSettings(default_channel="C0DEFAULT"),
                services=aws,
                store=aws.store,
                poster=SlackPoster(WebClient(token="xoxb-test", base_url=alerts_slack.api_url)),
                session=Session(region=REGION),
                default_channel="C0DEFAULT",
                environ={"TUNEBOT_IDEMPOTENCY_TABLE": "tunebot-idempotency-test"},
            )
        )
        try:
            handler(load("eventbridge-alarm-lambda-duration.json"), FakeContext())
        finally:
            configure(None)
        (post,) = alerts_slack.calls_to("chat.postMessage")
    blocks = post["blocks"]
    text = all_text(blocks)
    assert "Undone by <@UBOB1>" in text
    assert "Applied by" not in text
    actions = [
        element
        for block in blocks
        if block["type"] == "actions" and block["block_id"].startswith(rec)
        for element in block["elements"]
    ]
    assert [e["action_id"] for e in actions if e["action_id"].startswith("tune_")][:1] == [
        "tune_apply"
    ]
    assert actions[0]["text"]["text"] == "Apply again"
    assert not any(e["action_id"] == "tune_undo" for e in actions)

    # Apply again works: the undone change released the recommendation.
    bot.click("tune_apply", rec)
    assert memory_of("orders-worker") == 512


def test_a_change_set_back_outside_tunebot_reads_as_reverted(
    bot: SlackHarness, aws: Tunebot
) -> None:
    from service.lifecycle import ChangeState

    bot.command("checkout-api")
    bot.click("tune_apply", rec_on_card(bot))
    ((record, state),) = aws.change_states("checkout-api")
    assert (record.applied_by, state) == ("UALICE1", ChangeState.APPLIED)
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=1024
    )
    assert aws.change_states("checkout-api")[0][1] is ChangeState.REVERTED
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=768
    )
    assert aws.change_states("checkout-api")[0][1] is ChangeState.DRIFTED

# ruff: noqa: F811  (the harness fixtures are imported, then requested by name)
"""``handlers.slack.handler`` over the HTTP path Slack uses, with in-memory AWS services.

(The same flows against moto's DynamoDB and Lambda are in ``test_slack_moto.py``.)
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest

import handlers.slack as slack_handler
from bot.views import money
from fakes.services import NOW, InMemoryServices, memory_recommendation, snapshot
from fakes.slack import function_url_event, sign, slash_command_body
from recommendations.changes import TimeoutChange
from recommendations.pricing import monthly_cost
from tests.handlers.slack_harness import (  # noqa: F401  (pytest fixtures)
    CHANNEL,
    SIGNING_SECRET,
    SlackHarness,
    all_text,
    button,
    harness_factory,
    slack,
)

POLICY = {
    "admins": ["UADMIN1"],
    "appliers": ["UALICE1", "UBOB1", "SPLATFORM"],
    "rules": [{"tag": "env=prod", "approvers": 2}],
}


@pytest.fixture
def services() -> InMemoryServices:
    api = snapshot("checkout-api", memory=1024)
    prod = snapshot("orders-prod", memory=2048, tags={"tunebot:managed": "true", "env": "prod"})
    unmanaged = snapshot("legacy-report", memory=1024, tags={})
    fake = InMemoryServices([api, prod, unmanaged])
    fake.recommend(
        memory_recommendation(api),
        memory_recommendation(prod, after=1024),
        memory_recommendation(unmanaged),
    )
    return fake


@pytest.fixture
def bot(harness_factory: Any, services: InMemoryServices) -> SlackHarness:
    harness: SlackHarness = harness_factory(services, POLICY)
    return harness


def rec_id(services: InMemoryServices, function: str) -> str:
    return services.rules[function][0].id


# ---- /tune ---------------------------------------------------------------------------------


def test_tune_help_answers_in_the_acknowledgement(bot: SlackHarness) -> None:
    response = bot.command("help", run_lazy=False)
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert "/tune scan" in all_text(body["blocks"])
    assert bot.runner.pending == []
    empty = json.loads(bot.command("", run_lazy=False)["body"])
    assert empty["blocks"] == body["blocks"]


def test_tune_acks_at_once_then_posts_the_card(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    response = bot.command("checkout-api", run_lazy=False)
    assert response["statusCode"] == 200
    assert "Analysing `checkout-api`" in response["body"]
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.runner.run_pending() == 1
    post = bot.slack.calls_to("chat.postMessage")[0]
    assert post["channel"] == CHANNEL
    card = post["blocks"]
    assert card[0]["text"]["text"] == "Tuning checkout-api"
    assert "us-east-1 · 123456789012" in all_text(card)
    apply = button(card, "tune_apply")
    assert apply["value"] == rec_id(services, "checkout-api")
    assert apply["style"] == "primary"
    assert apply["confirm"]["text"]["text"] == ("Set memory of checkout-api from 1024 MB to 512 MB")
    for action in ("tune_benchmark", "tune_details", "tune_dismiss"):
        assert button(card, action)["value"] == apply["value"]


def test_unknown_function_gets_the_closest_names(bot: SlackHarness) -> None:
    bot.command("checkout-apj")
    replies = bot.slack.calls_to("response/cmd")
    assert len(replies) == 1
    text = all_text(replies[0]["blocks"])
    assert "no Lambda function named `checkout-apj`" in text
    assert "Did you mean: checkout-api" in text
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_name_lambda_would_reject_is_refused_in_the_ack(bot: SlackHarness) -> None:
    response = bot.command("<script> x", run_lazy=False)
    body = json.loads(response["body"])
    assert "is not a Lambda function name" in all_text(body["blocks"])
    assert "&lt;script&gt;" in all_text(body["blocks"])
    assert bot.runner.pending == [] or bot.runner.run_pending() == 1
    assert bot.slack.calls_to("chat.postMessage") == []


def test_tune_scan_posts_the_top_savings(bot: SlackHarness) -> None:
    response = bot.command("scan", run_lazy=False)
    assert "Scanning" in response["body"]
    bot.runner.run_pending()
    blocks = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    assert blocks[0]["text"]["text"] == "Top savings across the account"
    assert "*$30.00/mo* could be saved across 3 functions." in all_text(blocks)
    details = button(blocks, "tune_details")
    bot.click("tune_details", details["value"], blocks=blocks)
    assert bot.slack.calls_to("views.open")[0]["view"]["title"]["text"] == "Recommendation"


def test_scan_show_all_opens_at_once_then_fills_and_pages(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    fn = services.functions["checkout-api"]
    services.recommend(
        *(
            memory_recommendation(
                fn, rule_id=f"T-{n:02}", title=f"Advice {n}", monthly_savings_usd=100.0 - n
            )
            for n in range(25)
        )
    )
    bot.command("scan")
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    show_all = button(card, "tune_savings_all")
    assert show_all["text"]["text"] == "Show all 28"
    payload = {
        "type": "block_actions",
        "user": {"id": "UMALLORY1"},
        "trigger_id": "9.9.9",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "actions": [{"action_id": "tune_savings_all", "value": "0", "type": "button"}],
    }
    bot.send(urlencode({"payload": json.dumps(payload)}))
    (opened,) = bot.slack.calls_to("views.open")
    assert opened["trigger_id"] == "9.9.9"
    assert opened["view"]["external_id"] == "tune-savings-9.9.9"
    bot.runner.run_pending()
    (filled,) = bot.slack.calls_to("views.update")
    assert filled["external_id"] == "tune-savings-9.9.9"
    titles = [
        block["text"]["text"].split("\n")[0]
        for block in filled["view"]["blocks"]
        if block.get("block_id", "").endswith(":savings")
    ]
    assert titles[:2] == ["*checkout-api*: Advice 0", "*checkout-api*: Advice 1"]
    assert len(titles) == 20
    next_page = button(filled["view"]["blocks"], "tune_savings_page")
    payload["view"] = {"id": "V42", "type": "modal"}
    payload["actions"] = [{**next_page, "type": "button"}]
    bot.send(urlencode({"payload": json.dumps(payload)}))
    bot.runner.run_pending()
    second = bot.slack.calls_to("views.update")[-1]
    assert second["view_id"] == "V42"
    lines = [b for b in second["view"]["blocks"] if b.get("block_id", "").endswith(":savings")]
    assert len(lines) == 8
    assert len(bot.slack.calls_to("views.open")) == 1


def test_a_rate_limited_post_is_retried(bot: SlackHarness) -> None:
    bot.slack.rate_limit_next.add("chat.postMessage")
    bot.command("checkout-api")
    assert [m for m in bot.slack.methods() if m.startswith("chat.postMessage")] == [
        "chat.postMessage (429)",
        "chat.postMessage",
    ]


def test_details_from_the_home_tab_for_an_expired_recommendation_is_explained(
    bot: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "UALICE1"},
        "api_app_id": "A123456",
        "container": {"type": "view", "view_id": "V1"},
        "trigger_id": "1.2.3",
        "view": {"id": "V1", "type": "home"},
        "actions": [{"action_id": "tune_details", "value": "rec-0", "type": "button"}],
    }
    response = bot.send(urlencode({"payload": json.dumps(payload)}))
    assert response["statusCode"] == 200
    # No channel and no response URL: the click's trigger opens a notice instead.
    (opened,) = bot.slack.calls_to("views.open")
    assert opened["trigger_id"] == "1.2.3"
    assert all_text(opened["view"]["blocks"]) == all_text(
        [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":grey_question: tunebot no longer knows this recommendation: "
                    "run /tune again.",
                },
            }
        ]
    )
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []

    # From a modal (Show all → Details) the notice is pushed on top.
    bot.slack.clear()
    payload["view"] = {"id": "V2", "type": "modal"}
    payload["actions"] = [{"action_id": "tune_details_push", "value": "rec-0", "type": "button"}]
    bot.send(urlencode({"payload": json.dumps(payload)}))
    assert [call.method for call in bot.slack.calls] == ["views.push"]


def test_card_falls_back_to_ephemeral_where_the_bot_cannot_post(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.slack.fail_next["chat.postMessage"] = "not_in_channel"
    bot.command("checkout-api")
    reply = bot.slack.calls_to("response/cmd")[0]
    assert "Invite me" in all_text(reply["blocks"])
    assert reply["blocks"][1]["text"]["text"] == "Tuning checkout-api"
    # A refusal on that card still reaches the person, through the response URL.
    bot.slack.fail_next["chat.postEphemeral"] = "channel_not_found"
    bot.click(
        "tune_apply", rec_id(services, "checkout-api"), user="UMALLORY1", blocks=reply["blocks"]
    )
    told = bot.slack.calls_to("response/action")[-1]
    assert told["text"].startswith("You are not allowed")
    assert (told["response_type"], told["replace_original"]) == ("ephemeral", False)


# ---- apply, approvals, undo ----------------------------------------------------------------


def test_authorised_user_applies_and_the_card_updates_in_place(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    response = bot.click("tune_apply", rec_id(services, "checkout-api"), run_lazy=False)
    assert response["statusCode"] == 200
    assert services.functions["checkout-api"].memory_mb == 1024  # not before the lazy part
    bot.runner.run_pending()
    assert services.functions["checkout-api"].memory_mb == 512
    update = bot.slack.calls_to("chat.update")[-1]
    assert (update["channel"], update["ts"]) == (CHANNEL, "1700000000.000001")
    text = all_text(update["blocks"])
    assert "Applied by <@UALICE1>" in text
    assert button(update["blocks"], "tune_undo")["value"] == "chg-1"
    with pytest.raises(AssertionError):
        button(update["blocks"], "tune_apply")
    # The rest of the card is untouched.
    assert update["blocks"][0]["text"]["text"] == "Tuning checkout-api"


def _summary(blocks: list[dict[str, Any]]) -> tuple[str, str]:
    (block,) = [b for b in blocks if b.get("block_id", "").startswith("card:summary")]
    fields = [field["text"].split("\n", 1)[1] for field in block["fields"]]
    return fields[2], fields[3]


def test_the_card_summary_follows_apply_dismiss_and_undo(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    fn = services.functions["checkout-api"]
    cost = monthly_cost(fn, at=NOW)
    assert cost is not None
    now = cost.total_usd
    timeout = memory_recommendation(
        fn, rule_id="TMO-001", title="Lower the timeout", monthly_savings_usd=3.0, change=None
    )
    services.recommend(timeout)
    memory = rec_id(services, "checkout-api")
    bot.command("checkout-api")
    assert _summary(bot.last_card()) == (
        f"{money(now)} → {money(now - 13)}",
        "$13.00/mo from 2 open recommendations",
    )
    bot.click("tune_apply", memory)
    assert _summary(bot.last_card()) == (
        f"{money(now - 10)} → {money(now - 13)}",
        "$3.00/mo from 1 open recommendation",
    )
    bot.click("tune_dismiss", timeout.id)
    assert _summary(bot.last_card()) == (
        f"{money(now - 10)} → {money(now - 10)}",
        "$0.00/mo from 0 open recommendations",
    )
    bot.click("tune_undo", button(bot.last_card(), "tune_undo")["value"])
    assert _summary(bot.last_card()) == (
        f"{money(now)} → {money(now)}",
        "$0.00/mo from 0 open recommendations",
    )


def test_the_card_summary_keeps_the_hidden_recommendations(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    fn = services.functions["checkout-api"]
    cost = monthly_cost(fn, at=NOW)
    assert cost is not None
    services.recommend(
        *(
            memory_recommendation(
                fn, rule_id=f"T-{n:02}", title=f"Advice {n}", monthly_savings_usd=1.0, change=None
            )
            for n in range(9)
        )
    )
    bot.command("checkout-api")
    assert _summary(bot.last_card())[1] == "$19.00/mo from 10 open recommendations"
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    assert _summary(bot.last_card()) == (
        f"{money(cost.total_usd - 10)} → {money(cost.total_usd - 19)}",
        "$9.00/mo from 9 open recommendations",
    )


def test_unauthorised_user_is_refused_and_nothing_changes(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"), user="UMALLORY1")
    assert services.functions["checkout-api"].memory_mb == 1024
    assert services.apply_calls == 0
    assert bot.ephemeral_texts() == [
        "You are not allowed to apply changes (not listed in TUNEBOT_POLICY)."
    ]
    ephemeral = bot.slack.calls_to("chat.postEphemeral")[0]
    assert (ephemeral["user"], ephemeral["channel"]) == ("UMALLORY1", CHANNEL)
    assert bot.slack.calls_to("chat.update") == []


def test_user_group_membership_grants_apply(bot: SlackHarness, services: InMemoryServices) -> None:
    bot.slack.usergroups["SPLATFORM"] = ["UCAROL1"]
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"), user="UCAROL1")
    assert services.functions["checkout-api"].memory_mb == 512
    assert bot.slack.calls_to("usergroups.users.list") == [{"usergroup": "SPLATFORM"}]


def test_without_a_policy_nobody_may_apply(
    harness_factory: Any, services: InMemoryServices
) -> None:
    bot = harness_factory(services, None)
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"), user="UADMIN1")
    assert services.functions["checkout-api"].memory_mb == 1024
    assert bot.ephemeral_texts() == [
        "Nobody may apply changes yet: an admin has to set TUNEBOT_POLICY first."
    ]


def test_a_malformed_policy_disables_changes_and_says_why(
    harness_factory: Any, services: InMemoryServices
) -> None:
    bot = harness_factory(services, None, TUNEBOT_POLICY="{not json")
    bot.command("checkout-api")
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    with pytest.raises(AssertionError):
        button(card, "tune_apply")
    assert "recommend-only" in all_text(card)


def test_unmanaged_function_has_no_apply_button(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("legacy-report")
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    with pytest.raises(AssertionError):
        button(card, "tune_apply")
    assert "tag it tunebot:managed=true" in all_text(card)
    # A forged click is refused by the same check.
    bot.click("tune_apply", rec_id(services, "legacy-report"), user="UADMIN1")
    assert services.apply_calls == 0
    assert "lacks the tag tunebot:managed=true" in bot.ephemeral_texts()[0]


def test_production_needs_two_distinct_approvers(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("orders-prod")
    rec = rec_id(services, "orders-prod")
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    assert button(card, "tune_apply")["text"]["text"] == "Approve (0/2)"

    bot.click("tune_apply", rec, user="UALICE1")
    assert services.apply_calls == 0
    pending = bot.last_card()
    assert "Approved by <@UALICE1> (1 of 2)" in all_text(pending)
    assert button(pending, "tune_apply")["text"]["text"] == "Approve (1/2)"

    # The same person clicking again does not count twice.
    bot.click("tune_apply", rec, user="UALICE1")
    assert services.apply_calls == 0
    assert services.functions["orders-prod"].memory_mb == 2048
    assert bot.ephemeral_texts()[-1] == (
        "Your approval is recorded; 1 more distinct approver needed before it is applied."
    )

    bot.click("tune_apply", rec, user="UBOB1")
    assert services.functions["orders-prod"].memory_mb == 1024
    record = services.changes["chg-1"]
    assert record.approver_users == ("UALICE1", "UBOB1")
    assert "Applied by <@UBOB1>" in all_text(bot.last_card())


def test_stale_recommendation_is_not_applied(bot: SlackHarness, services: InMemoryServices) -> None:
    bot.command("checkout-api")
    fn = services.functions["checkout-api"]
    services.functions["checkout-api"] = fn.model_copy(update={"memory_mb": 1536})
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    assert services.functions["checkout-api"].memory_mb == 1536
    assert bot.ephemeral_texts() == [
        "The function changed since this was recommended; run /tune again."
    ]
    assert bot.slack.calls_to("chat.update") == []


def test_double_click_changes_the_function_once(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    card = bot.last_card()
    rec = rec_id(services, "checkout-api")
    bot.click("tune_apply", rec, blocks=card, run_lazy=False)
    bot.click("tune_apply", rec, blocks=card, run_lazy=False)
    assert bot.runner.run_pending() == 2
    assert services.functions["checkout-api"].memory_mb == 512
    assert list(services.changes) == ["chg-1"]
    assert bot.ephemeral_texts() == ["Already applied by <@UALICE1>; nothing changed."]


def test_undo_restores_the_function(bot: SlackHarness, services: InMemoryServices) -> None:
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    bot.click("tune_undo", "chg-1", user="UBOB1")
    assert services.functions["checkout-api"].memory_mb == 1024
    text = all_text(bot.last_card())
    assert "Undone by <@UBOB1>" in text
    with pytest.raises(AssertionError):
        button(bot.last_card(), "tune_undo")
    bot.click("tune_undo", "chg-1", user="UBOB1")
    assert bot.ephemeral_texts()[-1] == "Already undone; nothing changed."


def test_a_failure_after_the_change_is_not_reported_as_nothing_changed(
    bot: SlackHarness, services: InMemoryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied = services.apply

    def apply_then_fail(recommendation_id: str, **kwargs: Any) -> Any:
        applied(recommendation_id, **kwargs)
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr(services, "apply", apply_then_fail)
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    assert services.functions["checkout-api"].memory_mb == 512
    assert bot.ephemeral_texts() == [
        "Something went wrong on tunebot's side while making this change, so it may or may "
        "not have been made; the details are in its logs. Run /tune again to see the "
        "function's configuration before trying again."
    ]


def test_an_applied_change_whose_card_cannot_be_updated_says_it_was_applied(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    bot.slack.fail_next["chat.update"] = "msg_too_long"
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    assert services.functions["checkout-api"].memory_mb == 512
    assert bot.ephemeral_texts() == [
        "The change was applied, but the card could not be updated; /tune shows the current state."
    ]


def test_undo_after_the_recommendation_expired_points_to_the_cli(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    del services.stored[rec_id(services, "checkout-api")]
    bot.click("tune_undo", "chg-1", user="UBOB1")
    assert services.functions["checkout-api"].memory_mb == 512
    assert bot.ephemeral_texts()[-1] == (
        "tunebot no longer keeps the recommendation behind this change, so it cannot check who "
        "may undo it from Slack; run `tunebot undo chg-1` instead."
    )


def test_undo_needs_apply_rights(bot: SlackHarness, services: InMemoryServices) -> None:
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"))
    bot.click("tune_undo", "chg-1", user="UMALLORY1")
    assert services.functions["checkout-api"].memory_mb == 512
    assert bot.ephemeral_texts()[-1].startswith("You are not allowed")


def test_recommend_only_mode_refuses_clicks(
    harness_factory: Any, services: InMemoryServices
) -> None:
    bot = harness_factory(services, POLICY, TUNEBOT_APPLY_MODE="recommend-only")
    bot.command("checkout-api")
    with pytest.raises(AssertionError):
        button(bot.last_card(), "tune_apply")
    bot.click("tune_apply", rec_id(services, "checkout-api"), user="UADMIN1")
    assert services.apply_calls == 0
    assert "recommend-only" in bot.ephemeral_texts()[0]


def test_direct_mode_applies_production_with_one_click(
    harness_factory: Any, services: InMemoryServices
) -> None:
    bot = harness_factory(services, POLICY, TUNEBOT_APPLY_MODE="direct")
    bot.command("orders-prod")
    bot.click("tune_apply", rec_id(services, "orders-prod"))
    assert services.functions["orders-prod"].memory_mb == 1024


def test_unknown_recommendation_id_is_explained(bot: SlackHarness) -> None:
    bot.command("checkout-api")
    bot.click("tune_apply", "rec-0000000000000000")
    assert bot.ephemeral_texts() == [
        "tunebot no longer knows this recommendation: run /tune again."
    ]


# ---- dismiss, details, show more, benchmark, home ------------------------------------------


def test_dismiss_is_remembered(bot: SlackHarness, services: InMemoryServices) -> None:
    bot.command("checkout-api")
    rec = rec_id(services, "checkout-api")
    bot.click("tune_dismiss", rec, user="UMALLORY1")
    assert "Dismissed by <@UMALLORY1>" in all_text(bot.last_card())
    assert services.dismissals[rec].isoformat() == "2026-12-26T12:00:00+00:00"
    bot.slack.clear()
    bot.command("checkout-api")
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    assert rec not in all_text(card)
    assert "Nothing to change" in all_text(card)


def test_details_opens_a_modal_with_the_template_snippet(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    bot.click("tune_details", rec_id(services, "checkout-api"), run_lazy=False)
    assert bot.runner.pending == []
    opened = bot.slack.calls_to("views.open")[0]
    assert opened["trigger_id"].startswith("12321423423.")
    text = all_text(opened["view"]["blocks"])
    assert "MemorySize: 512" in text
    assert "AWS::Serverless::Function" in text and "AWS::Lambda::Function" in text
    assert "Max memory used: 180 MB" in text


def test_show_all_pages_through_many_recommendations(
    harness_factory: Any,
) -> None:
    fn = snapshot("busy-fn", memory=4096)
    services = InMemoryServices([fn])
    services.recommend(
        *(
            memory_recommendation(fn, after=128 + i, monthly_savings_usd=float(100 - i))
            for i in range(55)
        )
    )
    bot = harness_factory(services, POLICY)
    bot.command("busy-fn")
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    assert len(card) <= 50
    more = button(card, "tune_show_more")
    assert more["text"]["text"] == "Show all 55 recommendations"
    bot.click("tune_show_more", more["value"], run_lazy=False)
    first = bot.slack.calls_to("views.open")[0]["view"]
    assert first["title"]["text"] == "Page 1 of 3"
    next_page = button(first["blocks"], "tune_list_page")
    assert next_page["value"] == f"{fn.arn}|1"

    def in_modal(action_id: str, value: str) -> dict[str, Any]:
        payload = {
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": "UALICE1"},
            "api_app_id": "A123456",
            "container": {"type": "view", "view_id": "V42"},
            "trigger_id": "9.9.9",
            "view": {"id": "V42", "type": "modal"},
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        }
        return bot.send(urlencode({"payload": json.dumps(payload)}))

    assert in_modal("tune_list_page", next_page["value"])["statusCode"] == 200
    second = bot.slack.calls_to("views.update")[0]
    assert second["view_id"] == "V42"
    assert second["view"]["title"]["text"] == "Page 2 of 3"
    details = button(second["view"]["blocks"], "tune_details_push")
    assert in_modal("tune_details_push", details["value"])["statusCode"] == 200
    pushed = bot.slack.calls_to("views.push")[0]
    assert pushed["trigger_id"] == "9.9.9"
    assert pushed["view"]["title"]["text"] == "Recommendation"


def test_benchmark_posts_its_result_in_the_thread_with_its_own_apply(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api")
    bot.click("tune_benchmark", rec_id(services, "checkout-api"))
    thread = bot.slack.calls_to("chat.postMessage")[-1]
    assert thread["thread_ts"] == "1700000000.000001"
    assert "640 MB is the cheapest configuration" in all_text(thread["blocks"])
    apply = button(thread["blocks"], "tune_apply")
    assert services.get_recommendation(apply["value"]) is not None
    assert apply["confirm"]["text"]["text"] == "Set memory of checkout-api from 1024 MB to 640 MB"


def test_benchmark_needs_apply_rights(bot: SlackHarness, services: InMemoryServices) -> None:
    bot.command("checkout-api")
    bot.click("tune_benchmark", rec_id(services, "checkout-api"), user="UMALLORY1")
    assert bot.ephemeral_texts()[0].startswith("Benchmarks invoke the function")


def test_only_memory_changes_offer_a_benchmark(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    fn = services.functions["checkout-api"]
    timeout = memory_recommendation(
        fn,
        rule_id="TMO-001",
        title="Lower the timeout to 10 s",
        change=TimeoutChange(function_name=fn.name, before=30, after=10),
    )
    services.recommend(timeout)
    bot.command("checkout-api")
    actions = {
        block["block_id"].split(":")[0]: [e["action_id"] for e in block["elements"]]
        for block in bot.last_card()
        if block["type"] == "actions" and block["block_id"] != "card:more"
    }
    assert actions == {
        rec_id(services, "checkout-api"): [
            "tune_apply",
            "tune_benchmark",
            "tune_details",
            "tune_dismiss",
        ],
        timeout.id: ["tune_apply", "tune_details", "tune_dismiss"],
    }
    # A click from an older card is answered, and nothing is invoked.
    bot.click("tune_benchmark", timeout.id)
    assert bot.ephemeral_texts() == [
        "Benchmarks measure memory sizes and architectures, so they can only check a memory or "
        "architecture change; apply this one or read its Details."
    ]
    assert [call for call in bot.slack.calls if call.args.get("thread_ts")] == []


def _event_body(event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": "T0001",
            "api_app_id": "A123456",
            "type": "event_callback",
            "event_id": "Ev123",
            "event_time": 1700000000,
            "event": event,
        }
    )


def test_app_home_shows_savings_pending_and_changes(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("orders-prod")
    bot.click("tune_apply", rec_id(services, "orders-prod"), user="UALICE1")
    body = _event_body({"type": "app_home_opened", "user": "UALICE1", "tab": "home"})
    response = bot.send(body, content_type="application/json")
    assert response["statusCode"] == 200
    bot.runner.run_pending()
    published = bot.slack.calls_to("views.publish")[0]
    assert published["user_id"] == "UALICE1"
    text = all_text(published["view"]["blocks"])
    assert "Approvals: 1 of 2" in text
    assert "*checkout-api*: Lower memory to 512 MB" in text


def test_slack_event_retries_are_acknowledged_and_dropped(bot: SlackHarness) -> None:
    body = _event_body({"type": "app_home_opened", "user": "UALICE1", "tab": "home"})
    response = bot.send(
        body,
        content_type="application/json",
        extra_headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"},
    )
    assert response["statusCode"] == 200
    assert bot.runner.pending == []


# ---- transport: signatures, encodings, malformed input -------------------------------------


def _command_body(bot: SlackHarness) -> str:
    return slash_command_body(
        "checkout-api", user_id="UALICE1", channel_id=CHANNEL, response_url=bot.slack.response_url()
    )


def test_forged_signature_gets_401(bot: SlackHarness) -> None:
    body = _command_body(bot)
    now = int(time.time())
    response = bot.send(body, signature=sign(body, "not-the-secret", now), timestamp=now)
    assert response["statusCode"] == 401
    assert bot.runner.pending == []


# Bodies Bolt would index unchecked while building its request, before its own signature check.
ODD_SHAPES = [
    json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": 5}}),
    json.dumps({"type": "event_callback", "event": "x"}),
    urlencode({"payload": json.dumps({"type": "block_actions", "user": 5, "actions": [{}]})}),
]


def _type(body: str) -> str:
    return "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"


@pytest.mark.parametrize("body", ODD_SHAPES)
def test_an_unsigned_body_of_any_shape_gets_401_before_bolt_reads_it(
    bot: SlackHarness, body: str
) -> None:
    now = int(time.time())
    response = bot.send(
        body, signature=sign(body, "not-the-secret", now), timestamp=now, content_type=_type(body)
    )
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {
        "error": "The request is not signed by Slack, or the signature is stale."
    }


@pytest.mark.parametrize("body", ODD_SHAPES)
def test_a_signed_body_of_an_odd_shape_gets_400_without_raising(
    bot: SlackHarness, body: str
) -> None:
    response = bot.send(body, content_type=_type(body))
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {
        "error": "Expected a Slack request body of a known shape."
    }
    assert bot.runner.pending == []


def test_body_changed_after_signing_gets_401(bot: SlackHarness) -> None:
    body = _command_body(bot)
    now = int(time.time())
    response = bot.send(
        body.replace("checkout-api", "orders-prod"),
        signature=sign(body, SIGNING_SECRET, now),
        timestamp=now,
    )
    assert response["statusCode"] == 401


def test_timestamp_older_than_five_minutes_gets_401(bot: SlackHarness) -> None:
    response = bot.send(_command_body(bot), timestamp=int(time.time()) - 301)
    assert response["statusCode"] == 401
    assert bot.runner.pending == []


def test_base64_encoded_body_is_accepted(bot: SlackHarness) -> None:
    response = bot.send(_command_body(bot), base64_encoded=True)
    assert response["statusCode"] == 200
    assert "Analysing" in response["body"]


def test_api_gateway_rest_event_is_accepted(bot: SlackHarness) -> None:
    event = function_url_event(_command_body(bot), SIGNING_SECRET)
    event["requestContext"] = {"httpMethod": "POST", "stage": "prod"}
    event.pop("version")
    response = slack_handler.handler(event, None)
    assert response["statusCode"] == 200


@pytest.mark.parametrize(
    "event",
    [None, "text", [], {"body": "x"}, {"requestContext": {}, "body": 5}],
)
def test_events_that_are_not_http_get_400(bot: SlackHarness, event: Any) -> None:
    response = slack_handler.handler(event, None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"].startswith("Expected a well-formed HTTP request")


def test_bad_base64_gets_400(bot: SlackHarness) -> None:
    event = function_url_event("x", SIGNING_SECRET, base64_encoded=True)
    event["body"] = "!!!not base64!!!"
    assert slack_handler.handler(event, None)["statusCode"] == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("", 404),
        ("payload=%7Bnot-json", 400),
        (urlencode({"payload": json.dumps({"type": "block_actions"})}), 400),
        (urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}), 400),
        (urlencode({"payload": json.dumps(["not", "an", "object"])}), 400),
        # A command without text is a request for help.
        (urlencode({"command": "/tune"}), 200),
        (json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}}), 200),
        ("\u00ff\u00fe garbage", 404),
    ],
)
def test_malformed_signed_bodies_never_raise(bot: SlackHarness, body: str, status: int) -> None:
    response = bot.send(body)
    assert response["statusCode"] == status
    bot.runner.run_pending()
    assert bot.slack.calls_to("chat.update") == []
    assert bot.slack.calls_to("chat.postMessage") == []


def test_missing_slack_secrets_answer_500_without_a_traceback(
    bot: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    slack_handler.configure(services=InMemoryServices(), lazy_runner=bot.runner)
    response = bot.send(_command_body(bot))
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "tunebot is not configured; see its logs."}


def test_card_text_from_aws_is_escaped(harness_factory: Any) -> None:
    fn = snapshot("evil-fn")
    services = InMemoryServices([fn])
    services.recommend(
        memory_recommendation(fn, rationale="Use <!channel> & <https://evil.example|click>")
    )
    bot = harness_factory(services, POLICY)
    bot.command("evil-fn")
    text = all_text(bot.slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "<!channel>" not in text


def test_base64_payload_roundtrip_helper_is_sane() -> None:
    event = function_url_event("a=b", "s", base64_encoded=True)
    assert base64.b64decode(event["body"]) == b"a=b"


class _RecordingLambda:
    """Stands in for the boto3 Lambda client Bolt's runner invokes the function with."""

    def __init__(self) -> None:
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.invocations.append(kwargs)
        return {"StatusCode": 202}


class _LambdaContext:
    function_name = "tunebot-slack"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tunebot-slack"


def test_on_lambda_lazy_work_is_an_async_self_invocation(
    harness_factory: Any, services: InMemoryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = harness_factory(services, POLICY)
    slack_handler.configure(services=services)  # Bolt's own LambdaLazyListenerRunner
    lambda_client = _RecordingLambda()
    runner = slack_handler._get_handler().app.listener_runner.lazy_listener_runner
    runner.lambda_client = lambda_client
    event = function_url_event(_command_body(bot), SIGNING_SECRET)

    response = slack_handler.handler(event, _LambdaContext())
    assert response["statusCode"] == 200
    assert bot.slack.calls_to("chat.postMessage") == []
    (call,) = lambda_client.invocations
    assert call["FunctionName"] == _LambdaContext.invoked_function_arn
    assert call["InvocationType"] == "Event"
    lazy_event = json.loads(call["Payload"])
    assert lazy_event["headers"]["x-slack-bolt-lazy-only"] == "1"
    assert lazy_event["headers"]["x-slack-bolt-lazy-function-name"] == "run_tune"
    assert lazy_event["headers"]["x-tunebot-lazy-seal"].startswith("v1=")

    # Lambda delivers that event to the same handler, here after Slack's five minutes: it runs
    # only the lazy part.
    _later(monkeypatch, 8)
    assert slack_handler.handler(lazy_event, _LambdaContext())["statusCode"] == 200
    assert bot.slack.calls_to("chat.postMessage")[0]["blocks"][0]["text"]["text"] == (
        "Tuning checkout-api"
    )
    assert len(lambda_client.invocations) == 1


def test_acknowledging_never_waits_for_the_aws_side(
    harness_factory: Any, services: InMemoryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.compose

    built: list[str] = []

    def build_services() -> InMemoryServices:
        built.append("built")
        return services

    monkeypatch.setattr(handlers.compose, "build_services", build_services)
    bot = harness_factory(services, POLICY)
    slack_handler.configure(lazy_runner=bot.runner)  # no services: the real factory, deferred
    assert bot.command("help")["statusCode"] == 200
    response = bot.command("checkout-api", run_lazy=False)
    assert "Analysing" in response["body"]
    assert built == []
    bot.runner.run_pending()
    assert built == ["built"]
    assert bot.slack.calls_to("chat.postMessage")[0]["blocks"][0]["text"]["text"] == (
        "Tuning checkout-api"
    )


def test_importing_the_handler_loads_nothing_heavy() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, handlers.slack\n"
        "heavy = ('jinja2', 'boto3', 'botocore', 'pydantic', 'recommendations', 'aws', 'bot')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=root
    )
    assert output.stdout.strip() == "[]"


def test_the_runner_can_run_lazy_work_at_once(
    harness_factory: Any, services: InMemoryServices
) -> None:
    bot = harness_factory(services, POLICY)
    slack_handler.configure(
        services=services, lazy_runner=slack_handler.InProcessLazyRunner(deferred=False)
    )
    response = bot.command("checkout-api", run_lazy=False)
    assert response["statusCode"] == 200
    assert bot.slack.calls_to("chat.postMessage")[0]["blocks"][0]["text"]["text"] == (
        "Tuning checkout-api"
    )


def test_a_lazy_invocation_delivered_twice_runs_once(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    bot.command("checkout-api", run_lazy=False)
    (lazy_event,) = bot.runner.pending
    bot.runner.pending.clear()
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert len(services.deliveries) == 1


def test_a_forged_lazy_invocation_is_refused_before_anything_is_recorded(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    body = _command_body(bot)
    now = int(time.time())
    event = function_url_event(
        body,
        SIGNING_SECRET,
        signature=sign(body, "guessed", now),
        timestamp=now,
        extra_headers={
            "x-slack-bolt-lazy-only": "1",
            "x-slack-bolt-lazy-function-name": "run_tune",
        },
    )
    assert slack_handler.handler(event, None)["statusCode"] == 401
    assert services.deliveries == set()
    assert bot.slack.calls_to("chat.postMessage") == []


# ---- malformed requests: a logged, counted 400/401, never a Lambda error --------------------


def _metrics(capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    from tests.handlers.alert_env import emitted

    totals, _ = emitted(capsys)
    return totals


def _with_headers(body: str, **headers: str) -> dict[str, Any]:
    event = function_url_event(body, SIGNING_SECRET)
    event["headers"].update({name.replace("_", "-"): value for name, value in headers.items()})
    return event


UNSIGNED_EVENTS = {
    "a GET without body or headers": {
        "version": "2.0",
        "rawPath": "/",
        "requestContext": {"http": {"method": "GET", "path": "/"}},
    },
    "a timestamp that is not a number": _with_headers(
        "command=%2Ftune", x_slack_request_timestamp="abc"
    ),
    "a 5,000-digit timestamp": _with_headers(
        "command=%2Ftune", x_slack_request_timestamp="9" * 5000
    ),
    "a timestamp in other digits": _with_headers(
        "command=%2Ftune", x_slack_request_timestamp="\u0661\u0667\u0660\u0660"
    ),
    "a signature with non-ASCII letters": _with_headers(
        "command=%2Ftune", x_slack_signature="v0=\u00e9\u00e9"
    ),
    "a signature of the wrong length": _with_headers("command=%2Ftune", x_slack_signature="v0=ab"),
    "no signature": {
        **function_url_event("command=%2Ftune", SIGNING_SECRET),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    "null headers": {**function_url_event("command=%2Ftune", SIGNING_SECRET), "headers": None},
}


@pytest.mark.parametrize("event", UNSIGNED_EVENTS.values(), ids=UNSIGNED_EVENTS.keys())
def test_requests_without_valid_slack_headers_get_401_logged_and_counted(
    bot: SlackHarness,
    event: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = slack_handler.handler(event, None)
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {
        "error": "The request is not signed by Slack, or the signature is stale."
    }
    assert [r.levelname for r in caplog.records if "refused a Slack request" in r.message] == [
        "WARNING"
    ]
    assert _metrics(capsys) == {"SlackRequestsUnsigned": 1}
    assert bot.runner.pending == []


def _event(**changes: Any) -> dict[str, Any]:
    return {**function_url_event("command=%2Ftune", SIGNING_SECRET), **changes}


NOT_HTTP_EVENTS = {
    "headers as a list": _event(headers=[["x-slack-signature", "v0=1"]]),
    "a header that is a number": _event(
        headers={**function_url_event("a=b", SIGNING_SECRET)["headers"], "x-slack-retry-num": 1}
    ),
    "requestContext.http a string": _event(requestContext={"http": "POST"}),
    "isBase64Encoded a string": _event(isBase64Encoded="false"),
    "a body with a lone surrogate": _event(body="text=\ud800"),
    "query parameters that are numbers": _event(queryStringParameters={"a": 1}),
    "cookies that are not a list": _event(cookies="a=b"),
    "multiValueHeaders that are not lists": _event(multiValueHeaders={"cookie": "a"}),
}


@pytest.mark.parametrize("event", NOT_HTTP_EVENTS.values(), ids=NOT_HTTP_EVENTS.keys())
def test_events_of_a_broken_http_shape_get_400_logged_and_counted(
    bot: SlackHarness,
    event: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = slack_handler.handler(event, None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"].startswith("Expected a well-formed HTTP request")
    assert any("refused a Slack request (400)" in r.message for r in caplog.records)
    assert _metrics(capsys) == {"SlackRequestsMalformed": 1}


def _payload(**payload: Any) -> str:
    base = {
        "type": "block_actions",
        "user": {"id": "UALICE1"},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "tune_apply", "value": "rec-0", "type": "button"}],
    }
    return urlencode({"payload": json.dumps({**base, **payload})})


def _deep(levels: int) -> str:
    """A block_actions payload with a block nested ``levels`` arrays deep (as text: json
    cannot write one that deep)."""
    nested = "[" * levels + '"x"' + "]" * levels
    placeholder = _payload(message={"blocks": [{"x": "DEEP"}]})
    return placeholder.replace(quote_plus('"DEEP"'), quote_plus(nested))


ODD_PAYLOADS = {
    "a numeric action_id": _payload(actions=[{"action_id": 5, "value": "rec-0"}]),
    "an action without action_id": _payload(actions=[{"value": "rec-0"}]),
    "an action_id that is a list": _payload(actions=[{"action_id": ["tune_apply"]}]),
    "a numeric value": _payload(actions=[{"action_id": "tune_apply", "value": 5}]),
    "actions as an object": _payload(actions={"0": {"action_id": "tune_apply"}}),
    "an action that is a string": _payload(actions=["tune_apply"]),
    "the user as a string": _payload(user="UALICE1"),
    "a numeric user id": _payload(user={"id": 5}),
    "no user": _payload(user=None),
    "a numeric response_url": _payload(response_url=5),
    "a container that is a list": _payload(container=[CHANNEL]),
    "a numeric channel id in the container": _payload(container={"channel_id": 5}),
    "message blocks that are not objects": _payload(message={"blocks": ["x"]}),
    "authorizations that are a string": _payload(authorizations="team"),
    "a view submission whose view has no type": _payload(
        type="view_submission", view={"callback_id": "x", "id": "V1"}
    ),
    "a workflow step edit without its step": _payload(type="workflow_step_edit", callback_id="x"),
    "a numeric type": _payload(type=5),
    "a payload nested 2,000 levels deep": _deep(2000),
    "a payload nested 100 levels deep": _deep(100),
}


@pytest.mark.parametrize("body", ODD_PAYLOADS.values(), ids=ODD_PAYLOADS.keys())
def test_signed_payloads_of_unexpected_shapes_get_400_not_500(
    bot: SlackHarness, body: str, capsys: pytest.CaptureFixture[str]
) -> None:
    response = bot.send(body)
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {
        "error": "Expected a Slack request body of a known shape."
    }
    assert bot.runner.pending == []
    assert bot.slack.calls == []
    assert _metrics(capsys) == {"SlackRequestsMalformed": 1}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "event_callback", "event": None, "is_ext_shared_channel": True},
        {"type": "event_callback", "event": {"type": 5}},
        {"type": "event_callback", "event": {"type": "app_home_opened", "tab": ["home"]}},
        {"type": "event_callback", "event": {"type": "app_home_opened", "user": {"id": 7}}},
        [1, 2, 3],
    ],
)
def test_signed_events_of_unexpected_shapes_get_400(bot: SlackHarness, event: Any) -> None:
    response = bot.send(json.dumps(event), content_type="application/json")
    assert response["statusCode"] == 400
    assert bot.runner.pending == []


def test_the_shapes_slack_sends_still_pass(bot: SlackHarness, services: InMemoryServices) -> None:
    """The checks must not refuse real payloads: Slack's documented block_actions example."""
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
    payload = json.loads((fixture / "block-actions-docs-example.json").read_text())
    response = bot.send(urlencode({"payload": json.dumps(payload)}))
    assert response["statusCode"] in (200, 404)
    bot.command("checkout-api")
    assert bot.click("tune_apply", rec_id(services, "checkout-api"))["statusCode"] == 200
    assert services.functions["checkout-api"].memory_mb == 512


# ---- lazy work Lambda delivers late: sealed by tunebot, acted on or told ---------------------


def _later(monkeypatch: pytest.MonkeyPatch, minutes: float) -> None:
    start = time.time()
    monkeypatch.setattr(slack_handler, "clock", lambda: start + minutes * 60)


def _apply_click(bot: SlackHarness, services: InMemoryServices) -> dict[str, Any]:
    bot.command("checkout-api")
    bot.click("tune_apply", rec_id(services, "checkout-api"), run_lazy=False)
    (lazy_event,) = bot.runner.pending
    bot.runner.pending.clear()
    return dict(lazy_event)


def test_a_lazy_invocation_delivered_after_slacks_five_minutes_is_still_run(
    bot: SlackHarness, services: InMemoryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy_event = _apply_click(bot, services)
    _later(monkeypatch, 9)
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert services.functions["checkout-api"].memory_mb == 512
    assert len(bot.slack.calls_to("chat.update")) == 1


def test_a_lazy_click_too_old_to_act_on_is_not_run_and_the_user_is_told(
    bot: SlackHarness,
    services: InMemoryServices,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lazy_event = _apply_click(bot, services)
    capsys.readouterr()
    _later(monkeypatch, 20)
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert services.functions["checkout-api"].memory_mb == 1024
    assert bot.slack.calls_to("chat.update") == []
    (told,) = bot.slack.calls_to("response/action")
    assert told["response_type"] == "ephemeral"
    assert told["replace_original"] is False
    assert "Your click on *button* from <!date^" in told["text"]
    assert "reached tunebot 20 minutes late, so tunebot did not act on it" in told["text"]
    (logged,) = [r for r in caplog.records if "not run" in r.message]
    assert logged.levelname == "ERROR"
    assert "run_apply" in logged.message and "told by response_url" in logged.message
    assert _metrics(capsys) == {"LazyEventsExpired": 1}
    # Lambda delivering the same late event again tells nobody twice.
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert len(bot.slack.calls_to("response/action")) == 1


def test_after_the_response_url_expired_the_user_is_told_in_the_channel(
    bot: SlackHarness, services: InMemoryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.command("checkout-api", run_lazy=False)
    (lazy_event,) = bot.runner.pending
    bot.runner.pending.clear()
    _later(monkeypatch, 45)
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("response/cmd") == []
    (told,) = bot.slack.calls_to("chat.postEphemeral")
    assert (told["channel"], told["user"]) == (CHANNEL, "UALICE1")
    assert told["text"].startswith("Your `/tune checkout-api` from <!date^")
    assert "45 minutes late" in told["text"]


def test_a_late_app_home_refresh_is_logged_when_nobody_can_be_told(
    bot: SlackHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    body = _event_body({"type": "app_home_opened", "user": "UALICE1", "tab": "home"})
    bot.send(body, content_type="application/json")
    (lazy_event,) = bot.runner.pending
    bot.runner.pending.clear()
    _later(monkeypatch, 20)
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 200
    assert bot.slack.calls_to("views.publish") == []
    (logged,) = [r for r in caplog.records if "not run" in r.message]
    assert "publish_home" in logged.message and "could not be told" in logged.message


def _sealed_tune_event(bot: SlackHarness) -> dict[str, Any]:
    bot.command("checkout-api", run_lazy=False)
    (lazy_event,) = bot.runner.pending
    bot.runner.pending.clear()
    return dict(lazy_event)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda e: e["headers"].pop("x-tunebot-lazy-seal"), id="no seal"),
        pytest.param(
            lambda e: e["headers"].update({"x-tunebot-lazy-seal": "v1=" + "0" * 64}),
            id="a made-up seal",
        ),
        pytest.param(
            lambda e: e["headers"].update({"x-tunebot-lazy-seal": "v1=\u00e9"}),
            id="a seal of the wrong form",
        ),
        pytest.param(
            lambda e: e.update(body=e["body"].replace("checkout-api", "orders-prod")),
            id="the body changed",
        ),
        pytest.param(
            lambda e: e["headers"].update({"x-slack-bolt-lazy-function-name": "run_apply"}),
            id="moved to another lazy listener",
        ),
        pytest.param(
            lambda e: e["headers"].update(
                {
                    "x-slack-request-timestamp": str(
                        int(e["headers"]["x-slack-request-timestamp"]) + 1
                    )
                }
            ),
            id="another timestamp",
        ),
    ],
)
def test_a_lazy_request_without_tunebots_seal_is_refused(
    bot: SlackHarness, services: InMemoryServices, forge: Any
) -> None:
    lazy_event = _sealed_tune_event(bot)
    lazy_event["headers"] = dict(lazy_event["headers"])
    forge(lazy_event)
    assert slack_handler.handler(lazy_event, None)["statusCode"] == 401
    assert services.deliveries == set()
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_fresh_slack_signature_does_not_make_a_lazy_request_acceptable(
    bot: SlackHarness, services: InMemoryServices
) -> None:
    """Slack's signature proves the body came from Slack, not that tunebot asked for lazy work:
    with the lazy headers added to a genuine request it is still refused."""
    event = function_url_event(
        _command_body(bot),
        SIGNING_SECRET,
        extra_headers={
            "x-slack-bolt-lazy-only": "1",
            "x-slack-bolt-lazy-function-name": "run_tune",
        },
    )
    assert slack_handler.handler(event, None)["statusCode"] == 401
    assert services.deliveries == set()


def test_a_command_naming_a_function_with_payload_in_its_name_is_run(
    harness_factory: Any,
) -> None:
    """Bolt takes any form body containing "payload" for an interactivity payload; the command
    reached no listener (404, and Slack showed the user an error)."""
    fn = snapshot("payload-processor", memory=1024)
    services = InMemoryServices([fn])
    services.recommend(memory_recommendation(fn))
    bot = harness_factory(services, POLICY)
    response = bot.command("payload-processor", run_lazy=False)
    assert response["statusCode"] == 200
    assert "Analysing `payload-processor`" in response["body"]
    bot.runner.run_pending()
    card = bot.slack.calls_to("chat.postMessage")[0]["blocks"]
    assert card[0]["text"]["text"] == "Tuning payload-processor"

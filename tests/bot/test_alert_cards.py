"""Alert and digest cards render to valid Block Kit, with representative and extreme data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.alerts import (
    AlarmFacts,
    ChangeEffectView,
    CostCardView,
    DigestView,
    alarm_card_view,
    explanation_lines,
    finding_view,
    problem_view,
    render_alarm_card,
    render_cost_card,
    render_digest,
    render_reply,
)
from bot.settings import BotSettings
from fakes.services import memory_recommendation, snapshot
from recommendations.alerts import AlarmSignal, diagnose_alarm
from recommendations.cost_explanation import AnomalyRootCause, explain_anomaly

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SETTINGS = BotSettings()


def validate(blocks: tuple[dict[str, Any], ...]) -> None:
    assert 0 < len(blocks) <= 50
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()


def facts(**changes: Any) -> AlarmFacts:
    base: dict[str, Any] = {
        "alarm_name": "orders-worker-p99-duration",
        "alarm_url": "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/x",
        "state": "ALARM",
        "previous_state": "OK",
        "reason": (
            "Threshold Crossed: 1 out of the last 1 datapoints [2874.3] was greater than the "
            "threshold (2500.0)"
        ),
        "changed_at": NOW,
        "description": "p99 duration of orders-worker above 2.5 s",
        "metric_names": ("Duration",),
        "statistic": "p99",
        "threshold": 2500.0,
        "observed_value": 2874.3,
        "region": "us-east-1",
        "account_id": "123456789012",
    }
    base.update(changes)
    return AlarmFacts(**base)


def test_alarm_card_with_cause_and_recommendation_buttons() -> None:
    fn = snapshot("orders-worker", memory=1024)
    # A memory increase: on a latency alarm a memory cut is never the card's fix (see below).
    rec = memory_recommendation(fn, after=2048, title="Raise memory to 2048 MB")
    diagnosis = diagnose_alarm(fn, AlarmSignal(metric_names=("Duration",), statistic="p99"), [rec])
    finding = finding_view(
        function=fn.name,
        region=fn.region,
        recommendations=diagnosis.relevant,
        settings=SETTINGS,
        tags=fn.tags,
        cloudformation_stack=None,
        now=NOW,
        diagnosis=diagnosis,
    )
    message = render_alarm_card(alarm_card_view(facts(), [finding]))
    validate(message.blocks)
    assert message.text == "Alarm: orders-worker-p99-duration (orders-worker)"
    assert message.blocks[0]["text"]["text"] == "Alarm: orders-worker-p99-duration"
    fields = [field["text"] for field in message.blocks[1]["fields"]]
    assert fields == [
        "*State*\n:rotating_light: ALARM (was OK)",
        "*Metric*\np99 Duration",
        "*Value*\n2,874 ms (threshold &gt; 2,500 ms)",
        "*Region · account*\nus-east-1 · 123456789012",
    ]
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "tune_apply",
        "tune_benchmark",
        "tune_details",
        "tune_dismiss",
    ]
    assert actions[0]["elements"][0]["value"] == rec.id


def test_a_latency_alarm_card_shows_a_memory_cut_only_as_a_collapsed_other_saving() -> None:
    # Issue 12, reproduction 6: the p99 alarm card on checkout-api led with a memory cut.
    fn = snapshot("checkout-api", memory=1024)
    cut = memory_recommendation(fn, after=256, title="Reduce memory from 1024 MB to 256 MB")
    raise_memory = memory_recommendation(
        fn, after=1769, title="Raise memory to 1769 MB", monthly_savings_usd=1.0
    )
    signal = AlarmSignal(metric_names=("Duration",), statistic="p99")
    diagnosis = diagnose_alarm(fn, signal, [cut, raise_memory])
    fixes, other = diagnosis.fixes([cut, raise_memory])
    finding = finding_view(
        function=fn.name,
        region=fn.region,
        recommendations=fixes,
        other_savings=other,
        settings=SETTINGS,
        tags=fn.tags,
        cloudformation_stack=None,
        now=NOW,
        diagnosis=diagnosis,
    )
    message = render_alarm_card(alarm_card_view(facts(alarm_name="checkout-api-p99"), [finding]))
    validate(message.blocks)
    buttons = [
        element["value"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "tune_apply"
    ]
    assert buttons == [raise_memory.id]
    texts = [
        element["text"]
        for block in message.blocks
        if block["type"] == "context"
        for element in block["elements"]
    ]
    assert (
        "*Other savings*, not fixes for this alarm (run `/tune checkout-api` to act on them): "
        "Reduce memory from 1024 MB to 256 MB (Saves *$10.00/mo*) — can worsen Duration"
    ) in texts
    dumped = str(message.blocks)
    assert dumped.index("Raise memory to 1769 MB") < dumped.index("Reduce memory from 1024 MB")


def test_resolved_card_and_band_and_composite_wording() -> None:
    resolved = render_alarm_card(alarm_card_view(facts(state="OK", previous_state="ALARM"), []))
    validate(resolved.blocks)
    assert resolved.blocks[0]["text"]["text"] == "Resolved: orders-worker-p99-duration"
    band = facts(
        kind="anomaly_detection",
        threshold=None,
        band_lower=410.2,
        band_upper=950.5,
        observed_value=1840.0,
    )
    assert band.condition_text == "1,840 ms, expected band 410 ms – 950 ms"
    composite = facts(kind="composite", child_alarms=("a", "b"), metric_names=())
    assert composite.metric_text == "composite alarm over a, b"
    reason_only = facts(
        comparison=None,
        reason="... was less than or equal to the threshold (1.0)",
        metric_names=("Invocations",),
        threshold=1.0,
        observed_value=0.0,
    )
    assert reason_only.condition_text == "0 (threshold ≤ 1)"


def test_extreme_alarm_card_stays_within_slack_limits() -> None:
    long = "x" * 5000
    findings = []
    for index in range(5):
        fn = snapshot(f"fn-{index}-" + "y" * 50, memory=1024)
        recs = [
            memory_recommendation(fn, after=128 + i, title=long, rationale=long) for i in range(8)
        ]
        diagnosis = diagnose_alarm(fn, AlarmSignal(metric_names=("Duration",)), recs)
        findings.append(
            finding_view(
                function=fn.name,
                region=fn.region,
                recommendations=recs,
                settings=SETTINGS,
                tags=fn.tags,
                cloudformation_stack="stack",
                now=NOW,
                diagnosis=diagnosis,
                changes=(long,),
                cost_line=long,
            )
        )
    findings.append(problem_view("gone", "us-east-1", "The function no longer exists."))
    view = alarm_card_view(
        facts(alarm_name=long, description=long, reason=long), findings, transitions=7
    )
    message = render_alarm_card(view)
    validate(message.blocks)
    assert view.more_functions == 3
    assert sum(len(f.recommendations) for f in view.functions) == 5


def test_missing_function_card() -> None:
    message = render_alarm_card(
        alarm_card_view(
            facts(),
            [
                problem_view(
                    "orders-worker", "us-east-1", "The function no longer exists in us-east-1."
                )
            ],
        )
    )
    validate(message.blocks)
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section" and "text" in b]
    assert (
        "*`orders-worker`* · us-east-1\n:warning: The function no longer exists in us-east-1."
        in texts
    )


@pytest.mark.parametrize("with_functions", [True, False])
def test_cost_card(with_functions: bool) -> None:
    fn = snapshot("resize")
    functions = (
        (
            finding_view(
                function="resize",
                region="us-east-1",
                recommendations=[memory_recommendation(fn)],
                settings=SETTINGS,
                tags=fn.tags,
                cloudformation_stack=None,
                now=NOW,
                changes=("traffic 3.0× (1,000 → 3,000 requests)",),
                cost_line="+$107.20 in the window",
            ),
        )
        if with_functions
        else ()
    )
    view = CostCardView(
        anomaly_id="12345678-abcd",
        details_link="https://console.aws.amazon.com/cost-management/home#/anomaly-detection",
        service="AWS Lambda",
        total_impact="$1,001",
        impact_percentage="333.67%",
        actual="$1,301",
        expected="$300",
        window_text="2021-05-25",
        account="prod (123456789012)",
        root_causes=("AWS Lambda · us-east-1 · USE1-Lambda-GB-Second: $601",),
        functions=functions,
        attribution_note=None if with_functions else "Not a Lambda anomaly.",
        updates=2,
        updated_at=NOW,
    )
    message = render_cost_card(view)
    validate(message.blocks)
    assert message.text == "Cost anomaly: $1,001 above expected on AWS Lambda"


def test_cost_card_says_how_much_its_attribution_explains_and_where_the_rest_may_lie() -> None:
    # Issue 12: "$141 above expected" over a breakdown explaining $5.38, no word on the rest.
    explanation = explain_anomaly(
        141.0,
        5.38,
        5.10,
        functions_compared=12,
        region="us-east-1",
        account_id="123456789012",
        root_causes=[
            AnomalyRootCause(
                region="us-east-1",
                usage_type="USE1-Lambda-Provisioned-<!channel>",
                contribution_usd=40.0,
            )
        ],
    )
    view = CostCardView(
        anomaly_id="a-1",
        service="AWS Lambda",
        total_impact="$141",
        actual="$212",
        expected="$71.00",
        window_text="2026-12-02 – 2026-12-03",
        explained=explanation_lines(explanation),
    )
    message = render_cost_card(view)
    validate(message.blocks)
    (block,) = [b for b in message.blocks if b.get("block_id") == "cost:explained"]
    assert block["text"]["text"].split("\n") == [
        "Attribution explains *$5.38 of the $141* (4%): the compute and requests of the 12 "
        "functions tunebot compared, $5.10 of it from the functions below.",
        "The other *$136* may lie in:",
        # A name from the event is escaped: it cannot notify or link anything.
        "• USE1-Lambda-Provisioned-&lt;!channel&gt;: $40.00 (a usage type tunebot does not "
        "attribute to functions)",
        "• Lambda functions tunebot cannot read (deleted since, or not listed in us-east-1 of "
        "account 123456789012)",
        "• other regions or accounts (the monitor may cover more than tunebot reads)",
        "• a different baseline (the impact is measured against expected spend, tunebot's "
        "figures against the same span just before)",
    ]
    everything = explain_anomaly(
        24.0, 24.0, 24.0, functions_compared=1, region="us-east-1", account_id=None
    )
    assert explanation_lines(everything) == (
        "Attribution explains all of the *$24.00* (the compute and requests of the 1 function "
        "tunebot compared).",
    )


def test_digest_all_good_and_full() -> None:
    good = DigestView(period_text="19–26 Nov 2026", functions=12, total_savings="$0.00")
    message = render_digest(good)
    validate(message.blocks)
    assert good.all_good
    assert message.blocks[1]["text"]["text"] == (
        ":white_check_mark: All good: 12 functions scanned, nothing to save or fix, and no "
        "changes this week."
    )
    fn = snapshot()
    from bot.alerts import finding_view as fv

    recs = fv(
        function=fn.name,
        region=fn.region,
        recommendations=[memory_recommendation(fn)] * 5,
        settings=SETTINGS,
        tags=fn.tags,
        cloudformation_stack=None,
        now=NOW,
        limit=5,
    )
    full = DigestView(
        period_text="19–26 Nov 2026",
        functions=12,
        total_savings="$50.00",
        top=recs.recommendations,
        more_savings=4,
        risks=("checkout-api: errors are timeouts",) * 40,
        changes=(
            ChangeEffectView(
                description="Set memory of a from 1024 MB to 512 MB",
                applied_by="U1",
                applied_at=NOW,
                effect="average duration 120 → 130 ms, cost −48%",
            ),
        )
        * 30,
        errors=("broken: access denied",),
    )
    message = render_digest(full)
    validate(message.blocks)
    assert not full.all_good


def test_reply_keeps_slack_date_tokens() -> None:
    from bot.views import slack_date

    text = f"Resolved: back to OK {slack_date(NOW)}."
    message = render_reply(":white_check_mark:", text)
    validate(message.blocks)
    assert message.blocks[0]["text"]["text"] == (
        ":white_check_mark: Resolved: back to OK "
        "<!date^1795694400^{date_short_pretty} {time}|2026-11-26 12:00 UTC>."
    )
    assert message.text == text


def test_names_cannot_inject_links_into_the_notification_text() -> None:
    message = render_alarm_card(alarm_card_view(facts(alarm_name="<!channel> <http://x|y>"), []))
    assert message.text == "Alarm: &lt;!channel&gt; &lt;http://x|y&gt; (Lambda)"
    assert message.blocks[0]["text"]["type"] == "plain_text"

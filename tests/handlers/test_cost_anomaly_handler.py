"""``handlers.cost_anomaly.handler`` end to end: Lambda anomalies attributed to functions,
repeats updating one card, other services by configuration, failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from aws.errors import ThrottledError
from fakes.services import InMemoryServices, memory_recommendation, snapshot
from handlers.cost_anomaly import handler
from tests.alert_events import event_for, load, sns_event
from tests.handlers.alert_env import (
    DEFAULT_CHANNEL,
    AlertEnv,
    FakeContext,
    alert_env,
    emitted,
    section_texts,
)

CONTEXT = FakeContext()
START = datetime(2021, 5, 25, tzinfo=UTC)
BEFORE = datetime(2021, 5, 24, tzinfo=UTC)


def config(
    name: str, memory: int, modified: str = "2020-01-01T00:00:00.000+0000"
) -> dict[str, Any]:
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "MemorySize": memory,
        "Architectures": ["x86_64"],
        "LastModified": modified,
    }


def series(query_id: str, before: float, during: float) -> dict[str, Any]:
    return {"Id": query_id, "Timestamps": [BEFORE, START], "Values": [before, during]}


def services() -> InMemoryServices:
    resize = snapshot(
        "resize", memory=2048, tags={"tunebot:managed": "true", "tunebot:channel": "C0MEDIA"}
    )
    checkout = snapshot("checkout-api")
    found = InMemoryServices([resize, checkout])
    found.recommend(memory_recommendation(resize, after=1024, title="Lower memory to 1024 MB"))
    return found


def stub_usage(
    env: AlertEnv, results: list[dict[str, Any]], times: int = 1
) -> tuple[Stubber, Stubber]:
    lambda_stub = Stubber(env.session.client("lambda"))
    metrics_stub = Stubber(env.session.client("cloudwatch"))
    for _ in range(times):
        lambda_stub.add_response(
            "list_functions",
            {
                "Functions": [
                    config("checkout-api", 1024),
                    config("resize", 2048, "2021-05-25T08:00:00.000+0000"),
                ]
            },
        )
        metrics_stub.add_response("get_metric_data", {"MetricDataResults": results})
    lambda_stub.activate()
    metrics_stub.activate()
    return lambda_stub, metrics_stub


GROWTH = [
    series("d0", 1_000_000.0, 1_100_000.0),  # checkout-api: +10 %, not named as a change
    series("n0", 10_000.0, 10_500.0),
    series("d1", 2_000_000.0, 30_000_000.0),  # resize: 5x traffic, 3x duration
    series("n1", 1_000.0, 5_000.0),
]


def test_lambda_anomaly_names_the_functions_that_grew(capsys: pytest.CaptureFixture[str]) -> None:
    with alert_env(services()) as env:
        stubs = stub_usage(env, GROWTH)
        result = handler(load("cost-anomaly-eventbridge-lambda.json"), CONTEXT)
        for stub in stubs:
            stub.assert_no_pending_responses()
        (post,) = env.posts()
    assert result["results"][0]["outcome"] == "posted"
    assert post["channel"] == "C0MEDIA"  # the top contributor's tunebot:channel tag
    assert post["text"] == "Cost anomaly: $1,001 above expected on AWS Lambda"
    texts = section_texts(post["blocks"])
    assert "*Root causes*\nAWS Lambda · us-east-1 · USE1-Lambda-GB-Second · prod: $601" in texts
    assert (
        "*`resize`* · us-east-1\n$0.07 → $1.00 (+$0.93; 4,000 → 60,000 GB-s)\nWhat changed: "
        "traffic 5.0× (1,000 → 5,000 requests) · average duration 3.0× (2,000 → 6,000 ms) · "
        "deployed or reconfigured 2021-05-25 08:00 UTC (memory now 2048 MB)"
    ) in texts
    # checkout-api grew by well under 5% of resize's increase: not worth a section.
    assert not any(text.startswith("*`checkout-api`*") for text in texts)
    buttons = [b for b in post["blocks"] if b["type"] == "actions"]
    assert buttons[0]["elements"][0]["action_id"] == "tune_apply"
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "AlertsPosted": 1}
    # The headline's $1,001 is not the functions': the card says how much they explain, before
    # them, and where the rest may lie.
    explained = next(b for b in post["blocks"] if b.get("block_id") == "cost:explained")
    lines = explained["text"]["text"].split("\n")
    assert lines[:2] == [
        "Attribution explains *$0.94 of the $1,001* (under 1%): the compute and requests of the "
        "2 functions tunebot compared, $0.93 of it from the functions below.",
        "The other *$1,000* may lie in:",
    ]
    assert (
        "• Lambda functions tunebot cannot read (deleted since, or not listed in us-east-1 of "
        "account 123456789012)"
    ) in lines
    assert any(line.startswith("• other Lambda usage types") for line in lines)
    assert any(line.startswith("• other regions or accounts") for line in lines)
    blocks = post["blocks"]
    assert blocks.index(explained) < next(
        i for i, b in enumerate(blocks) if b.get("text", {}).get("text", "").startswith("*`resize`")
    )


def test_an_anomaly_still_under_way_compares_equal_spans_up_to_now() -> None:
    # AWS names today while it is under way: half a day against the whole day before would
    # understate the traffic and cost the card cites.
    noon = datetime(2021, 5, 25, 12, 0, tzinfo=UTC)
    with alert_env(services()) as env:
        env.runtime.now = lambda: noon
        lambda_stub = Stubber(env.session.client("lambda"))
        lambda_stub.add_response(
            "list_functions", {"Functions": [config("checkout-api", 1024), config("resize", 2048)]}
        )
        metrics_stub = Stubber(env.session.client("cloudwatch"))
        metrics_stub.add_response(
            "get_metric_data",
            {"MetricDataResults": GROWTH},
            {
                "MetricDataQueries": ANY,
                "StartTime": datetime(2021, 5, 24, 12, 0, tzinfo=UTC),
                "EndTime": noon,
                "ScanBy": "TimestampAscending",
            },
        )
        lambda_stub.activate()
        metrics_stub.activate()
        handler(load("cost-anomaly-eventbridge-lambda.json"), CONTEXT)
        metrics_stub.assert_no_pending_responses()
        (post,) = env.posts()
    assert (
        "Top contributors among 2 functions in us-east-1, comparing 2021-05-25 up to 12:00 UTC "
        "with the same span before (+$0.94 estimated in all)."
    ) in section_texts(post["blocks"])


def test_repeats_of_an_anomaly_update_its_card_and_redelivery_is_ignored() -> None:
    with alert_env(services()) as env:
        stubs = stub_usage(env, GROWTH, times=2)
        handler(load("cost-anomaly-eventbridge-lambda.json"), CONTEXT)
        repeat = load("cost-anomaly-sns-message-lambda.json")
        repeat["impact"]["totalImpact"] = 1500
        handler(sns_event(repeat, "sns-1"), CONTEXT)
        handler(sns_event(repeat, "sns-1"), CONTEXT)  # SNS redelivers the same message
        for stub in stubs:
            stub.assert_no_pending_responses()
        posts, updates = env.posts(), env.updates()
    assert len(updates) == 1
    _, reply = posts
    assert updates[0]["ts"] == reply["thread_ts"]
    assert reply["text"] == "Updated: the impact is now $1,500 ($1,301 vs $300)."
    assert updates[0]["text"] == "Cost anomaly: $1,500 above expected on AWS Lambda"
    context = next(b for b in updates[0]["blocks"] if b["type"] == "context")
    assert "updated 2 times" in context["elements"][0]["text"]


def test_other_services_are_skipped_unless_configured(capsys: pytest.CaptureFixture[str]) -> None:
    with alert_env(InMemoryServices()) as env:
        result = handler(event_for("cost-anomaly-sns-message.json"), CONTEXT)
        assert env.slack.calls == []
    assert result["results"][0]["outcome"] == "skipped"
    assert emitted(capsys)[0] == {"EventsReceived": 1, "EventsSkipped": 1}

    with alert_env(InMemoryServices(), environ={"TUNEBOT_COST_ALERTS": "all"}) as env:
        handler(event_for("cost-anomaly-sns-message.json"), CONTEXT)
        (post,) = env.posts()
    assert post["channel"] == DEFAULT_CHANNEL
    assert post["text"] == "Cost anomaly: $1,001 above expected on ServiceName"
    assert (
        "*Root causes*\nAnomalousServiceName · AnomalousUsageType · "
        "AnomalousLinkedAccountName: $601" in section_texts(post["blocks"])
    )


def test_root_cause_with_only_a_service_and_no_growth() -> None:
    with alert_env(services()) as env:
        stub_usage(
            env,
            [
                series("d0", 5.0, 5.0),
                series("n0", 1.0, 1.0),
                series("d1", 9.0, 2.0),
                series("n1", 3.0, 1.0),
            ],
        )
        handler(event_for("cost-anomaly-sns-service-only.json"), CONTEXT)
        (post,) = env.posts()
    assert (
        "No function's compute or request cost grew against the 2 days before "
        "(2 functions compared in us-east-1)." in section_texts(post["blocks"])
    )


def test_throttled_attribution_raises_for_a_retry(capsys: pytest.CaptureFixture[str]) -> None:
    with alert_env(services()) as env:
        lambda_stub = Stubber(env.session.client("lambda"))
        lambda_stub.add_response("list_functions", {"Functions": [config("resize", 2048)]})
        lambda_stub.activate()
        metrics_stub = Stubber(env.session.client("cloudwatch"))
        metrics_stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        metrics_stub.activate()
        with pytest.raises(ThrottledError):
            handler(load("cost-anomaly-eventbridge-lambda.json"), CONTEXT)
        assert env.slack.calls == []
    assert emitted(capsys)[0] == {"EventsReceived": 1, "TransientFailures": 1}


def test_malformed_anomaly_is_counted() -> None:
    body = load("cost-anomaly-sns-message-lambda.json")
    body["rootCauses"] = "everything"
    with alert_env(InMemoryServices()) as env:
        result = handler(sns_event(json.dumps(body)), CONTEXT)
        assert env.slack.calls == []
    assert result["results"][0] == {"outcome": "malformed", "reason": "rootCauses is not a list"}


def test_an_increase_in_another_linked_account_is_not_attributed_here() -> None:
    body = load("cost-anomaly-sns-message-lambda.json")
    body["rootCauses"][0]["linkedAccount"] = "210987654321"
    with alert_env(services()) as env:
        handler(sns_event(body), CONTEXT)
        (post,) = env.posts()
    assert (
        "The increase is in account 210987654321; tunebot reads account 123456789012 and "
        "attributes Lambda costs there only." in section_texts(post["blocks"])
    )


def test_a_change_made_with_tunebot_in_the_window_is_named() -> None:
    from aws.store import ChangeRecord
    from recommendations.changes import MemoryChange

    with alert_env(services()) as env:
        env.store.put_change(
            ChangeRecord(
                change_id="chg-7",
                function_name="resize",
                change=MemoryChange(function_name="resize", before=1024, after=2048),
                description="Set memory of resize from 1024 MB to 2048 MB",
                actor="slack:U0ALICE",
                applied_at=datetime(2021, 5, 24, 18, 30, tzinfo=UTC),
            )
        )
        stub_usage(env, GROWTH)
        handler(load("cost-anomaly-eventbridge-lambda.json"), CONTEXT)
        (post,) = env.posts()
    resize = next(t for t in section_texts(post["blocks"]) if t.startswith("*`resize`*"))
    assert resize.endswith(
        " · Set memory of resize from 1024 MB to 2048 MB "
        "(applied with tunebot 2021-05-24 18:30 UTC)"
    )


def test_an_sns_message_of_2000_nested_arrays_is_dropped_and_counted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with alert_env(services()) as env:
        result = handler(sns_event("[" * 2000 + "]" * 2000), CONTEXT)
        assert env.slack.calls == []
    assert result["results"] == [
        {"outcome": "malformed", "reason": "the SNS message is nested more than 64 levels deep"}
    ]
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "ParseFailures": 1}


def test_an_eventbridge_anomaly_nested_thousands_of_levels_is_dropped() -> None:
    event = load("cost-anomaly-eventbridge-lambda.json")
    part = event["detail"]
    for _ in range(3000):
        part["rootCauses"] = [{}]
        part = part["rootCauses"][0]
    with alert_env(services()) as env:
        result = handler(event, CONTEXT)
        assert env.slack.calls == []
    assert result["results"] == [
        {"outcome": "malformed", "reason": "the event is nested more than 64 levels deep"}
    ]

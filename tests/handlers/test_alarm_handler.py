"""``handlers.alarm.handler`` end to end: every alarm payload, the right card in the right
channel, one thread per alarm, idempotent redelivery, skips and failures."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.alerts import SlackTransientError
from fakes.services import InMemoryServices, memory_recommendation, snapshot
from handlers.alarm import handler
from recommendations.snapshot import FunctionStats
from tests.alert_events import event_for, load, sns_event
from tests.handlers.alert_env import (
    DEFAULT_CHANNEL,
    FakeContext,
    alert_env,
    emitted,
    section_texts,
)

CONTEXT = FakeContext()


def orders_worker_services() -> InMemoryServices:
    fn = snapshot(
        "orders-worker",
        memory=512,
        tags={"tunebot:managed": "true", "tunebot:channel": "C0ORDERS"},
        stats=FunctionStats(
            window_days=14, invocations=1000, max_memory_used_mb=470, log_sample_invocations=1000
        ),
    )
    services = InMemoryServices([fn])
    services.recommend(
        memory_recommendation(
            fn, after=1536, title="Raise memory to 1536 MB", monthly_savings_usd=2.0
        )
    )
    return services


def duration_alarm(state: str = "ALARM", delivery: str = "eb-1", when: str = "") -> dict[str, Any]:
    event = copy.deepcopy(load("eventbridge-alarm-lambda-duration.json"))
    event["id"] = delivery
    event["detail"]["state"]["value"] = state
    if when:
        event["detail"]["state"]["timestamp"] = when
    return event


def test_sns_lambda_alarm_posts_a_card_in_the_default_channel(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fn = snapshot(
        "checkout-api",
        region="ap-southeast-1",
        arn="arn:aws:lambda:ap-southeast-1:123456789012:function:checkout-api",
    )
    with alert_env(InMemoryServices([fn]), region="ap-southeast-1") as env:
        result = handler(load("sns-cloudwatch-alarm-lambda.json"), CONTEXT)
        (post,) = env.posts()
    assert result["results"][0]["outcome"] == "posted"
    assert post["channel"] == DEFAULT_CHANNEL
    assert post["text"] == "Alarm: checkout-api-invocations (checkout-api)"
    fields = [f["text"] for f in post["blocks"][1]["fields"]]
    assert fields[1:3] == ["*Metric*\nSum Invocations", "*Value*\n2 (threshold ≥ 0)"]
    assert "*`checkout-api`* · ap-southeast-1" in section_texts(post["blocks"])
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "AlertsPosted": 1}


def test_duration_alarm_routes_by_function_tag_with_cause_and_buttons() -> None:
    services = orders_worker_services()
    with alert_env(services) as env:
        handler(duration_alarm(), CONTEXT)
        (post,) = env.posts()
    assert post["channel"] == "C0ORDERS"
    texts = section_texts(post["blocks"])
    assert texts[1].startswith(
        "*Likely cause*\n• Under-provisioned: at 512 MB the function gets 0.29 vCPU and uses "
        "470 MB of it, so garbage collection slows it down; tunebot recommends 1536 MB."
    )
    (rec,) = services.rules["orders-worker"]
    apply = next(b for b in post["blocks"] if b["type"] == "actions")["elements"][0]
    assert (apply["action_id"], apply["value"]) == ("tune_apply", rec.id)
    assert rec.id in services.stored  # the button resolves through the store


def test_a_duration_alarm_never_offers_a_memory_cut_as_its_fix() -> None:
    fn = snapshot(
        "orders-worker",
        memory=1024,
        tags={"tunebot:channel": "C0ORDERS"},
        stats=FunctionStats(
            window_days=14, duration_p50_ms=90.0, duration_p99_ms=2800.0, invocations=1000
        ),
    )
    services = InMemoryServices([fn])
    cut = memory_recommendation(fn, after=256, title="Reduce memory from 1024 MB to 256 MB")
    services.recommend(cut)
    with alert_env(services) as env:
        handler(duration_alarm(), CONTEXT)
        (post,) = env.posts()
    assert not [b for b in post["blocks"] if b["type"] == "actions"]
    context = " ".join(
        element["text"]
        for block in post["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    )
    assert "*Other savings*, not fixes for this alarm" in context
    assert "Reduce memory from 1024 MB to 256 MB (Saves *$10.00/mo*) — can worsen Duration" in (
        context
    )


def test_ok_transition_updates_the_card_and_replies_in_its_thread() -> None:
    with alert_env(orders_worker_services()) as env:
        handler(duration_alarm("ALARM", "eb-1"), CONTEXT)
        handler(duration_alarm("OK", "eb-2", "2019-10-02T17:20:00.000+0000"), CONTEXT)
        (first, reply) = env.posts()
        (update,) = env.updates()
    assert update["ts"] == reply["thread_ts"] != ""
    assert update["channel"] == first["channel"] == "C0ORDERS"
    assert update["blocks"][0]["text"]["text"] == "Resolved: orders-worker-p99-duration"
    assert reply["text"].startswith("Resolved: back to OK")


def test_flapping_alarm_stays_in_one_thread() -> None:
    with alert_env(orders_worker_services()) as env:
        for index, (state, minute) in enumerate([("ALARM", 5), ("OK", 10), ("ALARM", 15)]):
            handler(
                duration_alarm(state, f"eb-{index}", f"2019-10-02T17:{minute}:00.000+0000"), CONTEXT
            )
        posts, updates = env.posts(), env.updates()
    parents = [p for p in posts if "thread_ts" not in p]
    assert len(parents) == 1
    assert [p["text"][:14] for p in posts if "thread_ts" in p] == [
        "Resolved: back",
        "In ALARM again",
    ]
    assert len(updates) == 2
    about = updates[-1]["blocks"][2]["elements"][0]["text"]
    assert about.endswith("3 state changes in this thread")


def test_redelivery_and_the_same_transition_by_another_channel_post_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with alert_env(orders_worker_services()) as env:
        handler(duration_alarm(delivery="eb-1"), CONTEXT)
        handler(duration_alarm(delivery="eb-1"), CONTEXT)  # redelivered
        handler(duration_alarm(delivery="eb-9"), CONTEXT)  # same transition, new delivery id
        assert len(env.posts()) == 1
        assert env.updates() == []
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 3, "AlertsPosted": 1}


@pytest.mark.parametrize(
    "name",
    ["sns-cloudwatch-alarm-ec2-placeholders.json", "eventbridge-alarm-ec2-single-metric.json"],
)
def test_alarms_on_other_services_are_skipped_quietly(
    name: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with alert_env(InMemoryServices()) as env:
        result = handler(event_for(name), CONTEXT)
        assert env.slack.calls == []
    assert result["results"] == [
        {"outcome": "skipped", "reason": "not an alarm on Lambda functions"}
    ]
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "EventsSkipped": 1}
    (skip,) = [r for r in caplog.records if r.getMessage() == "alarm skipped"]
    assert skip.levelno == logging.INFO


def test_ok_without_an_open_alert_is_skipped() -> None:
    with alert_env(orders_worker_services()) as env:
        result = handler(duration_alarm("OK"), CONTEXT)
        assert env.slack.calls == []
    assert result["results"][0]["reason"] == "OK with no open alert for this alarm"


def test_metric_math_anomaly_band_and_alarm_action_variants() -> None:
    functions = [
        snapshot(
            "payments",
            region="eu-west-1",
            arn="arn:aws:lambda:eu-west-1:123456789012:function:payments",
        ),
    ]
    with alert_env(InMemoryServices(functions), region="eu-west-1") as env:
        handler(event_for("sns-metric-math-errors-rate.json"), CONTEXT)
        (post,) = env.posts()
    assert (
        post["blocks"][1]["fields"][1]["text"] == "*Metric*\n100 * m1 / m2 over Errors, Invocations"
    )
    assert "*`payments`* · eu-west-1" in section_texts(post["blocks"])

    services = InMemoryServices(
        [
            snapshot("thumbnails"),
            snapshot(
                "ingest",
                reserved_concurrency=10,
                stats=FunctionStats(window_days=14, concurrent_executions_max=10),
            ),
        ]
    )
    with alert_env(services) as env:
        handler(event_for("eventbridge-anomaly-band-duration.json"), CONTEXT)
        handler(event_for("alarm-action-throttles.json"), CONTEXT)
        band, action = env.posts()
    assert band["blocks"][1]["fields"][2]["text"] == (
        "*Value*\n1,840 ms, expected band 410 ms – 950 ms"
    )
    assert action["text"] == "Alarm: ingest-throttles (ingest)"
    assert any(
        "Throttled against its reserved concurrency of 10 (peak 10 concurrent)." in text
        for text in section_texts(action["blocks"])
    )


def test_composite_alarm_is_resolved_through_its_children() -> None:
    import boto3

    with alert_env(InMemoryServices([snapshot("checkout-api")])) as env:
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        cloudwatch.put_metric_alarm(
            AlarmName="checkout-api-errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": "checkout-api"}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        handler(event_for("sns-composite.json"), CONTEXT)
        (post,) = env.posts()
    assert post["text"] == "Alarm: checkout-degraded (checkout-api)"
    assert post["blocks"][1]["fields"][1]["text"] == (
        "*Metric*\ncomposite alarm over checkout-api-errors, checkout-api-p99"
    )


def test_a_function_that_no_longer_exists_gets_a_short_card() -> None:
    with alert_env(InMemoryServices()) as env:
        handler(duration_alarm(), CONTEXT)
        (post,) = env.posts()
    assert (
        "*`orders-worker`* · us-east-1\n:warning: The function no longer exists in us-east-1."
        in section_texts(post["blocks"])
    )


class FailingRead(InMemoryServices):
    """Reading the function fails the way the wiring reports it: ServiceError from the AWS
    error, itself from botocore's."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__()
        self.status, self.code = status, code

    def analyze_function(self, name: str) -> Any:
        from botocore.exceptions import ClientError

        from aws.errors import AwsCallError
        from service.errors import ServiceError

        response: Any = {
            "Error": {"Code": self.code, "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }
        origin = ClientError(response, "GetFunction")
        # The AWS error says whether it is retryable (from the HTTP status); the service's
        # error carries that verdict (service.analysis.service_error).
        retryable = self.status >= 500
        try:
            raise AwsCallError(
                f"Could not read the function: {self.code}.", retryable=retryable
            ) from origin
        except AwsCallError as error:
            raise ServiceError(str(error), retryable=error.retryable) from error


def test_a_function_aws_refuses_to_read_gets_a_short_card_not_a_retry() -> None:
    with alert_env(FailingRead(400, "ValidationException")) as env:
        handler(duration_alarm(), CONTEXT)
        (post,) = env.posts()
    assert (
        "*`orders-worker`* · us-east-1\n:warning: The function could not be read: "
        "Could not read the function: ValidationException." in section_texts(post["blocks"])
    )


def test_aws_failing_to_read_a_function_is_retried() -> None:
    from aws.errors import AwsCallError

    with alert_env(FailingRead(503, "ServiceException")) as env:
        with pytest.raises(AwsCallError):
            handler(duration_alarm(), CONTEXT)
        assert env.posts() == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("just text", "the event is a str, not a JSON object"),
        (
            {"Records": [{"Sns": {"MessageId": "m", "Message": "{oops"}}]},
            "the SNS message is not JSON",
        ),
        (
            sns_event({"anomalyId": "a", "impact": {}}),
            "not a CloudWatch alarm (cost_anomaly payload)",
        ),
        (sns_event({"AlarmName": "x", "NewStateValue": "MAYBE"}), "unknown alarm state 'MAYBE'"),
        ({"version": "0", "source": "aws.cloudwatch"}, "the event is neither SNS, EventBridge"),
    ],
)
def test_malformed_payloads_are_logged_counted_and_not_retried(
    event: Any, reason: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with alert_env(InMemoryServices()) as env:
        result = handler(event, CONTEXT)
        assert env.slack.calls == []
    (outcome,) = result["results"]
    assert outcome["outcome"] == "malformed"
    assert outcome["reason"].startswith(reason)
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "ParseFailures": 1}
    (log,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert log.reason.startswith(reason)  # type: ignore[attr-defined]
    assert log.event == event  # type: ignore[attr-defined]


def test_slack_rate_limit_raises_and_the_retry_posts_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with alert_env(orders_worker_services()) as env:
        env.slack.fail_next["chat.postMessage"] = "ratelimited"
        with pytest.raises(SlackTransientError):
            handler(duration_alarm(), CONTEXT)
        handler(duration_alarm(), CONTEXT)  # Lambda's retry of the same event
        posts = env.posts()
    assert len(posts) == 2  # the refused one and the retry
    assert env.updates() == []
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 2, "TransientFailures": 1, "AlertsPosted": 1}


def test_channel_not_found_is_logged_and_not_retried(capsys: pytest.CaptureFixture[str]) -> None:
    with alert_env(orders_worker_services()) as env:
        env.slack.fail_next["chat.postMessage"] = "channel_not_found"
        result = handler(duration_alarm(), CONTEXT)
    assert result["results"][0] == {
        "outcome": "delivery_failed",
        "reason": "Slack refused chat.postMessage: channel_not_found.",
    }
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "DeliveryFailures": 1}


def test_no_channel_anywhere_is_an_error_not_a_retry() -> None:
    with alert_env(InMemoryServices([snapshot("orders-worker")]), default_channel=None) as env:
        result = handler(duration_alarm(), CONTEXT)
        assert env.slack.calls == []
    assert result["results"][0] == {"outcome": "no_channel"}


def test_alarm_tags_route_when_the_function_has_none() -> None:
    import boto3

    with alert_env(InMemoryServices([snapshot("orders-worker")])) as env:
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        cloudwatch.put_metric_alarm(
            AlarmName="orders-worker-p99-duration",
            Namespace="AWS/Lambda",
            MetricName="Duration",
            Dimensions=[{"Name": "FunctionName", "Value": "orders-worker"}],
            ExtendedStatistic="p99",
            Period=300,
            EvaluationPeriods=1,
            Threshold=2500,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "tunebot:channel", "Value": "C0ALARMTAG"}],
        )
        arn = cloudwatch.describe_alarms()["MetricAlarms"][0]["AlarmArn"]
        event = duration_alarm()
        event["resources"] = [arn]
        handler(event, CONTEXT)
        (post,) = env.posts()
    assert post["channel"] == "C0ALARMTAG"


def test_a_rebuilt_card_keeps_what_was_applied_and_approved_from_it() -> None:
    services = orders_worker_services()
    other = memory_recommendation(
        services.functions["orders-worker"], after=2048, rule_id="MEM-002", title="Try 2048 MB"
    )
    services.recommend(other)
    with alert_env(services) as env:
        handler(duration_alarm("ALARM", "eb-1"), CONTEXT)
        applied = services.rules["orders-worker"][0]
        services.apply(applied.id, user_id="U0ALICE", approvers=["U0ALICE"])
        services.add_approval(other.id, "U0BOB")
        handler(duration_alarm("OK", "eb-2", "2019-10-02T17:20:00.000+0000"), CONTEXT)
        (update,) = env.updates()
    states = [
        element["text"]
        for block in update["blocks"]
        if block["type"] == "context" and str(block.get("block_id", "")).endswith(":state")
        for element in block["elements"]
    ]
    assert states[0].startswith(":white_check_mark: Applied by <@U0ALICE>")
    assert states[1].startswith(":hourglass: Approved by <@U0BOB>")
    undo = [
        element
        for block in update["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "tune_undo"
    ]
    assert [button["value"] for button in undo] == ["chg-1"]


def test_insufficient_data_is_noted_in_an_open_thread_only() -> None:
    with alert_env(orders_worker_services()) as env:
        quiet = handler(duration_alarm("INSUFFICIENT_DATA", "eb-0"), CONTEXT)
        assert env.slack.calls == []
        handler(duration_alarm("ALARM", "eb-1", "2019-10-02T17:05:00.000+0000"), CONTEXT)
        handler(
            duration_alarm("INSUFFICIENT_DATA", "eb-2", "2019-10-02T17:35:00.000+0000"), CONTEXT
        )
        (update,) = env.updates()
        reply = env.posts()[1]
    assert quiet["results"][0]["reason"] == "INSUFFICIENT_DATA with no open alert for this alarm"
    assert update["blocks"][0]["text"]["text"] == "No data: orders-worker-p99-duration"
    assert reply["text"].startswith("Insufficient data")


def test_an_alarm_from_another_account_is_not_analysed_here() -> None:
    event = duration_alarm()
    event["account"] = "210987654321"
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:210987654321:alarm:orders-worker-p99"]
    services = orders_worker_services()
    with alert_env(services) as env:
        handler(event, CONTEXT)
        (post,) = env.posts()
    assert (
        "*`orders-worker`* · us-east-1\n:warning: The function is in account 210987654321; "
        "tunebot reads account 123456789012." in section_texts(post["blocks"])
    )
    assert services.stored == {}


def _sns_alarm(**changes: Any) -> dict[str, Any]:
    """The real SNS alarm delivery with fields of its message replaced (``Trigger__Namespace``
    sets ``Trigger.Namespace``)."""
    event = copy.deepcopy(load("sns-cloudwatch-alarm-lambda.json"))
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    for name, value in changes.items():
        *path, last = name.split("__")
        part = message
        for key in path:
            part = part[key]
        part[last] = value
    sns["Message"] = json.dumps(message)
    return event


def _eventbridge_alarm(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    event = copy.deepcopy(load("eventbridge-alarm-lambda-duration.json"))
    change(event["detail"])
    return event


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


WRONG_TYPED = {
    "AlarmDescription a number": (
        _sns_alarm(AlarmDescription=-1),
        "AlarmDescription is a number, not a string",
    ),
    "Trigger.Namespace a boolean": (
        _sns_alarm(Trigger__Namespace=True),
        "Trigger.Namespace is a boolean, not a string",
    ),
    "Trigger.Metrics a number": (
        _sns_alarm(Trigger__Metrics=5),
        "Trigger.Metrics is a number, not an array",
    ),
    "Trigger a string": (_sns_alarm(Trigger="AWS/Lambda"), "Trigger is a string, not an object"),
    "NewStateReason an object": (
        _sns_alarm(NewStateReason={"text": "x"}),
        "NewStateReason is an object, not a string",
    ),
    "configuration.description a number": (
        _eventbridge_alarm(lambda d: d["configuration"].update(description=5)),
        "configuration.description is a number, not a string",
    ),
    "a metric's namespace a number": (
        _eventbridge_alarm(
            lambda d: d["configuration"]["metrics"][0]["metricStat"]["metric"].update(namespace=7)
        ),
        "configuration.metrics[0].metricstat.metric.namespace is a number",
    ),
    "an SNS message of 2,000 nested arrays": (
        sns_event(_nested(2000)),
        "the SNS message is nested more than 64 levels deep",
    ),
    "an SNS message nested 100 levels": (
        sns_event(_nested(100)),
        "the SNS message is nested more than 64 levels deep",
    ),
}


@pytest.mark.parametrize(("event", "reason"), WRONG_TYPED.values(), ids=WRONG_TYPED.keys())
def test_wrong_typed_or_deeply_nested_alarms_are_dropped_and_counted(
    event: Any, reason: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with alert_env(orders_worker_services()) as env:
        result = handler(event, CONTEXT)
        assert env.slack.calls == []
    (outcome,) = result["results"]
    assert outcome["outcome"] == "malformed"
    assert outcome["reason"].startswith(reason)
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "ParseFailures": 1}
    (log,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert log.reason == outcome["reason"]  # type: ignore[attr-defined]


def test_an_event_nested_thousands_of_levels_is_dropped_without_logging_it_whole(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    deep: dict[str, Any] = {"AlarmName": "x", "NewStateValue": "ALARM"}
    part = deep
    for _ in range(3000):
        part["Trigger"] = {}
        part = part["Trigger"]
    with alert_env(InMemoryServices()) as env:
        result = handler(deep, CONTEXT)
        assert env.slack.calls == []
    assert result["results"] == [
        {"outcome": "malformed", "reason": "the event is nested more than 64 levels deep"}
    ]
    metrics, _ = emitted(capsys)
    assert metrics == {"EventsReceived": 1, "ParseFailures": 1}
    (log,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert log.event == "(not logged: nested too deeply)"  # type: ignore[attr-defined]


def test_reason_data_nested_too_deeply_is_ignored_and_the_alarm_still_posted() -> None:
    """``reasonData`` is JSON inside a string; 5,000 nested arrays there raised RecursionError."""
    event = duration_alarm()
    event["detail"]["state"]["reasonData"] = "[" * 5000 + "]" * 5000
    with alert_env(orders_worker_services()) as env:
        (outcome,) = handler(event, CONTEXT)["results"]
        assert outcome["outcome"] == "posted"
        assert len(env.posts()) == 1

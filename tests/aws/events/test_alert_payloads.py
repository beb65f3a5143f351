"""Every documented alarm and anomaly shape reads into the right normalised value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aws.events.alarm import AlarmKind, AlarmState, parse_alarm
from aws.events.cost_anomaly import parse_cost_anomaly
from aws.events.envelopes import (
    Delivery,
    Envelope,
    MalformedEventError,
    PayloadKind,
    Rejected,
    unwrap,
)
from aws.events.targets import FunctionTarget, lambda_targets, watches_lambda
from tests.alert_events import event_for, load, sns_event


def only_envelope(event: object) -> Envelope:
    (item,) = unwrap(event)
    assert isinstance(item, Envelope), item
    return item


def test_sns_lambda_alarm_with_display_region_and_lower_case_dimensions() -> None:
    envelope = only_envelope(load("sns-cloudwatch-alarm-lambda.json"))
    assert (envelope.delivery, envelope.kind) == (Delivery.SNS, PayloadKind.ALARM)
    assert envelope.delivery_id == "c88796ea-e668-5127-b30c-cb74121e1d51"
    alarm = parse_alarm(envelope)
    assert alarm.alarm_name == "checkout-api-invocations"
    assert alarm.region == "ap-southeast-1"
    assert alarm.account_id == "123456789012"
    assert alarm.state is AlarmState.ALARM
    assert alarm.previous_state is AlarmState.INSUFFICIENT_DATA
    assert alarm.kind is AlarmKind.METRIC
    assert alarm.statistic == "Sum"
    assert (alarm.threshold, alarm.observed_value) == (0.0, 2.0)
    assert alarm.comparison == "GreaterThanOrEqualToThreshold"
    assert alarm.description is None
    assert alarm.state_changed_at == datetime(2023, 10, 10, 6, 41, 58, 348000, tzinfo=UTC)
    assert lambda_targets(alarm) == (
        FunctionTarget(name="checkout-api", region="ap-southeast-1", metric_names=("Invocations",)),
    )
    assert alarm.console_url == (
        "https://ap-southeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-southeast-1"
        "#alarmsV2:alarm/checkout-api-invocations"
    )


def test_sns_ec2_alarm_with_placeholders_reads_and_is_not_lambda() -> None:
    alarm = parse_alarm(only_envelope(load("sns-cloudwatch-alarm-ec2-placeholders.json")))
    assert alarm.alarm_name == "EXAMPLE"
    assert alarm.region is None  # "REGION" in the ARN and "EXAMPLE" as the region
    assert alarm.metrics[0].namespace == "AWS/EC2"
    assert alarm.statistic == "Average"
    assert lambda_targets(alarm) == ()
    assert not watches_lambda(alarm)


def test_eventbridge_ec2_alarm_is_not_lambda() -> None:
    envelope = only_envelope(load("eventbridge-alarm-ec2-single-metric.json"))
    assert (envelope.delivery, envelope.kind) == (Delivery.EVENTBRIDGE, PayloadKind.ALARM)
    alarm = parse_alarm(envelope)
    assert alarm.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert (alarm.threshold, alarm.observed_value) == (50.0, 99.50160229693434)
    assert lambda_targets(alarm) == ()


def test_eventbridge_lambda_p99_duration() -> None:
    alarm = parse_alarm(only_envelope(load("eventbridge-alarm-lambda-duration.json")))
    assert alarm.statistic == "p99"
    assert (alarm.threshold, alarm.observed_value) == (2500.0, 2874.3)
    assert alarm.previous_state is AlarmState.OK
    assert lambda_targets(alarm) == (
        FunctionTarget(name="orders-worker", region="us-east-1", metric_names=("Duration",)),
    )


def test_sns_metric_math_finds_the_function_in_the_inputs() -> None:
    alarm = parse_alarm(only_envelope(event_for("sns-metric-math-errors-rate.json")))
    assert alarm.kind is AlarmKind.METRIC_MATH
    assert alarm.region == "eu-west-1"
    assert [m.id for m in alarm.metrics] == ["e1", "m1", "m2"]
    assert alarm.metrics[0].expression == "100 * m1 / m2"
    assert (alarm.threshold, alarm.observed_value) == (5.0, 12.5)
    assert lambda_targets(alarm) == (
        FunctionTarget(name="payments", region="eu-west-1", metric_names=("Errors", "Invocations")),
    )


def test_sns_composite_names_its_children() -> None:
    alarm = parse_alarm(only_envelope(event_for("sns-composite.json")))
    assert alarm.kind is AlarmKind.COMPOSITE
    assert alarm.child_alarms == ("checkout-api-errors", "checkout-api-p99")
    assert alarm.region == "us-east-1"
    assert lambda_targets(alarm) == ()  # resolved from the children by the handler


def test_eventbridge_anomaly_band_with_resource_alias() -> None:
    alarm = parse_alarm(only_envelope(event_for("eventbridge-anomaly-band-duration.json")))
    assert alarm.kind is AlarmKind.ANOMALY_DETECTION
    assert (alarm.band_lower, alarm.band_upper, alarm.observed_value) == (410.2, 950.5, 1840.0)
    assert alarm.threshold is None
    assert lambda_targets(alarm) == (
        FunctionTarget(name="thumbnails", region="us-east-1", metric_names=("Duration",)),
    )


def test_resource_dimension_gives_the_alias() -> None:
    body = load("eventbridge-alarm-lambda-duration.json")
    body["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {
        "Resource": "orders-worker:live"
    }
    alarm = parse_alarm(only_envelope(body))
    assert lambda_targets(alarm) == (
        FunctionTarget(
            name="orders-worker", qualifier="live", region="us-east-1", metric_names=("Duration",)
        ),
    )


def test_alarm_action_event() -> None:
    envelope = only_envelope(event_for("alarm-action-throttles.json"))
    assert (envelope.delivery, envelope.kind) == (Delivery.ALARM_ACTION, PayloadKind.ALARM)
    again = only_envelope(event_for("alarm-action-throttles.json"))
    assert envelope.delivery_id == again.delivery_id  # a retried action is the same delivery
    alarm = parse_alarm(envelope)
    assert alarm.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ingest-throttles"
    assert (alarm.threshold, alarm.observed_value, alarm.statistic) == (0.0, 37.0, "Sum")
    assert lambda_targets(alarm)[0].name == "ingest"


def test_transition_key_is_the_same_across_deliveries() -> None:
    eventbridge = parse_alarm(only_envelope(load("eventbridge-alarm-lambda-duration.json")))
    body = load("eventbridge-alarm-lambda-duration.json")
    body["id"] = "another-delivery"
    redelivered = parse_alarm(only_envelope(body))
    assert eventbridge.delivery_id != redelivered.delivery_id
    assert eventbridge.transition_key == redelivered.transition_key
    assert eventbridge.thread_key == eventbridge.alarm_arn


@pytest.mark.parametrize(
    ("name", "delivery"),
    [
        ("cost-anomaly-sns-message.json", Delivery.SNS),
        ("cost-anomaly-sns-message-lambda.json", Delivery.SNS),
        ("cost-anomaly-eventbridge-lambda.json", Delivery.EVENTBRIDGE),
    ],
)
def test_cost_anomalies_read_from_both_channels(name: str, delivery: Delivery) -> None:
    envelope = only_envelope(event_for(name))
    assert (envelope.delivery, envelope.kind) == (delivery, PayloadKind.COST_ANOMALY)
    anomaly = parse_cost_anomaly(envelope)
    assert anomaly.anomaly_id == "12345678-abcd-ef12-3456-987654321a12"
    assert anomaly.impact.total_impact_usd == 1001.0
    assert anomaly.impact.total_expected_spend_usd == 300.0
    assert anomaly.root_causes[0].contribution_usd == 601.0
    assert anomaly.window() == (
        datetime(2021, 5, 25, tzinfo=UTC),
        datetime(2021, 5, 26, tzinfo=UTC),
    )


def test_cost_anomaly_lambda_and_placeholder_root_causes() -> None:
    lambda_one = parse_cost_anomaly(
        only_envelope(event_for("cost-anomaly-eventbridge-lambda.json"))
    )
    assert lambda_one.dimension_value == "AWS Lambda"  # EventBridge: dimensionValue
    assert lambda_one.is_lambda
    assert lambda_one.lambda_root_causes[0].region == "us-east-1"
    assert lambda_one.monitor_name == "services-monitor"

    placeholder = parse_cost_anomaly(only_envelope(event_for("cost-anomaly-sns-message.json")))
    assert placeholder.dimension_value == "ServiceName"  # SNS: dimensionalValue
    assert not placeholder.is_lambda
    cause = placeholder.root_causes[0]
    assert (cause.service, cause.region, cause.linked_account) == (
        "AnomalousServiceName",
        None,
        None,
    )


def test_cost_anomaly_with_only_a_service() -> None:
    anomaly = parse_cost_anomaly(only_envelope(event_for("cost-anomaly-sns-service-only.json")))
    assert anomaly.is_lambda
    assert anomaly.root_causes[0].region is None
    assert anomaly.root_causes[0].contribution_usd is None
    assert anomaly.window() == (
        datetime(2024, 2, 10, tzinfo=UTC),
        datetime(2024, 2, 12, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("https://console.aws.amazon.com/cost-management/home#/anomaly-detection", True),
        ("https://us-east-1.console.aws.amazon.com/cost-management/home", True),
        ("https://console.aws.amazon.com/x|Click> <!channel", False),
        ("https://evil.example/console.aws.amazon.com/", False),
        ("https://console.aws.amazon.com.evil.example/", False),
        ("javascript:alert(1)", False),
    ],
)
def test_only_aws_console_links_are_kept(link: str, kept: bool) -> None:
    message = load("cost-anomaly-sns-service-only.json")
    anomaly = parse_cost_anomaly(only_envelope(sns_event({**message, "anomalyDetailsLink": link})))
    assert anomaly.details_link == (link if kept else None)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not a dict", "the event is a str, not a JSON object"),
        ({"hello": "world"}, "the event is neither SNS, EventBridge nor an alarm action"),
        ({"Records": []}, "not an SNS event (Records: List should have at least 1 item"),
        (sns_event("{not json"), "the SNS message is not JSON"),
        (sns_event("[1, 2]"), "the SNS message is not a JSON object"),
        ({"detail-type": "x", "source": "y"}, "not an EventBridge event (id: Field required)"),
    ],
)
def test_malformed_envelopes_are_rejected_with_a_reason(event: object, reason: str) -> None:
    (item,) = unwrap(event)
    assert isinstance(item, Rejected)
    assert item.reason.startswith(reason)


def test_unknown_sns_message_is_kind_unknown() -> None:
    envelope = only_envelope(sns_event({"Type": "something else"}))
    assert envelope.kind is PayloadKind.UNKNOWN


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"NewStateValue": "EXPLODED"}, "unknown alarm state 'EXPLODED'"),
        ({"AlarmName": "  "}, "the alarm message has no AlarmName"),
    ],
)
def test_malformed_alarm_messages(change: dict[str, str], reason: str) -> None:
    body = json.loads(load("sns-cloudwatch-alarm-lambda.json")["Records"][0]["Sns"]["Message"])
    body.update(change)
    with pytest.raises(MalformedEventError, match=reason):
        parse_alarm(only_envelope(sns_event(body)))


def test_malformed_cost_anomaly() -> None:
    body = load("cost-anomaly-sns-message-lambda.json")
    del body["impact"]
    with pytest.raises(MalformedEventError, match="the cost anomaly has no impact"):
        parse_cost_anomaly(only_envelope(sns_event(body)))


def test_figures_too_large_or_infinite_are_unknown_not_an_error() -> None:
    """Python reads a 400-digit JSON number as an int that no float can hold, and JSON text
    such as "1e999" as infinity; neither is a threshold or a period AWS would send."""
    message = json.loads(load("sns-cloudwatch-alarm-lambda.json")["Records"][0]["Sns"]["Message"])
    message["Trigger"]["Threshold"] = 10**400
    message["Trigger"]["Period"] = "1e999"
    alarm = parse_alarm(only_envelope(sns_event(message)))
    assert alarm.threshold == 0.0  # the reason's figure, the Threshold itself being unusable
    assert alarm.metrics[0].period_s is None
    anomaly = load("cost-anomaly-sns-message-lambda.json")
    anomaly["impact"]["totalImpact"] = 10**400
    parsed = parse_cost_anomaly(only_envelope(sns_event(anomaly)))
    assert parsed.impact.total_impact_usd is None

"""Fuzzing the alert handlers with mutations of real alarm and anomaly events.

Each example is one of the documented payloads (the shared fixtures and our variants) with a
few places changed: a value of another type, a key gone, a part wrapped in an array, an SNS
message that nests thousands of levels. Whatever arrives, the handler answers with one result
per payload, each of a documented outcome, counts every malformed one as ``ParseFailures``,
raises only the transient errors that are meant to be retried, and changes no function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import handlers.alarm
import handlers.cost_anomaly
from fakes.services import InMemoryServices, memory_recommendation, snapshot
from handlers.alerting import is_transient
from recommendations.snapshot import FunctionStats
from tests.alert_events import load
from tests.fuzz.mutations import FUZZ, garbage_text, mutated
from tests.handlers.alert_env import FakeContext, alert_env, emitted
from tests.handlers.test_slack_moto import _create_function

OUTCOMES = {"posted", "updated", "skipped", "malformed", "no_channel", "delivery_failed"}
ALARMS = [
    "sns-cloudwatch-alarm-lambda.json",
    "sns-cloudwatch-alarm-ec2-placeholders.json",
    "eventbridge-alarm-ec2-single-metric.json",
    "eventbridge-alarm-lambda-duration.json",
    "alarm-action-throttles.json",
    "eventbridge-anomaly-band-duration.json",
    "sns-composite.json",
    "sns-metric-math-errors-rate.json",
]
ANOMALIES = [
    "cost-anomaly-sns-message.json",
    "cost-anomaly-sns-message-lambda.json",
    "cost-anomaly-eventbridge-lambda.json",
    "cost-anomaly-sns-service-only.json",
]


def _sns(message: str, message_id: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "Message": message,
                    "Timestamp": "2024-02-12T08:00:00.000Z",
                },
            }
        ]
    }


@st.composite
def events(draw: st.DrawFn, name: str) -> Any:
    """The real event in ``name`` with a few places changed: inside the SNS message, where AWS
    puts the payload as text (for an SNS delivery), or anywhere in the Lambda event."""
    data = load(name)
    message_id = f"fuzz-{draw(st.integers(min_value=0, max_value=10**9))}"
    if "Records" in data:
        data = json.loads(data["Records"][0]["Sns"]["Message"])
    if "detail-type" in data or "alarmData" in data:
        return draw(mutated({**data, "id": message_id}))
    if draw(st.booleans()):
        return _sns(json.dumps(draw(mutated(data))), message_id)
    return draw(mutated(_sns(json.dumps(data), message_id)))


def _services() -> InMemoryServices:
    worker = snapshot(
        "orders-worker",
        memory=512,
        tags={"tunebot:managed": "true", "tunebot:channel": "C0ORDERS"},
        stats=FunctionStats(window_days=14, invocations=1000, max_memory_used_mb=470),
    )
    found = InMemoryServices([worker, snapshot("checkout-api"), snapshot("resize")])
    found.recommend(memory_recommendation(worker, after=1536))
    return found


def _configurations() -> dict[str, Any]:
    client = boto3.client("lambda", region_name="us-east-1")
    return {
        fn["FunctionName"]: (fn["MemorySize"], fn["Timeout"], fn.get("Architectures"))
        for fn in client.list_functions()["Functions"]
    }


def _fuzz(
    handler: Callable[[Any, Any], Any],
    strategy: st.SearchStrategy[Any],
    capsys: pytest.CaptureFixture[str],
    examples: int,
) -> None:
    services = _services()
    with alert_env(services):
        _create_function("orders-worker", 512, {"tunebot:managed": "true"})
        before = _configurations()

        @settings(FUZZ, max_examples=examples)
        @given(strategy)
        def run(event: Any) -> None:
            capsys.readouterr()
            try:
                result = handler(event, FakeContext())
            except Exception as error:
                if is_transient(error):
                    return  # documented: raised so that Lambda retries
                raise
            outcomes = [item["outcome"] for item in result["results"]]
            assert outcomes and set(outcomes) <= OUTCOMES, result
            metrics, _ = emitted(capsys)
            assert metrics.get("ParseFailures", 0) == outcomes.count("malformed"), result
            assert metrics["EventsReceived"] == len(outcomes)

        run()
        assert _configurations() == before
        assert services.changes == {}


# Each fixture gets its own examples: Hypothesis favours the first of several choices.
@pytest.mark.parametrize("name", ALARMS)
def test_mutated_alarm_events_are_handled_or_dropped(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fuzz(handlers.alarm.handler, events(name), capsys, examples=16)


@pytest.mark.parametrize("name", ANOMALIES)
def test_mutated_cost_anomaly_events_are_handled_or_dropped(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fuzz(handlers.cost_anomaly.handler, events(name), capsys, examples=25)


@pytest.mark.parametrize("handler", [handlers.alarm.handler, handlers.cost_anomaly.handler])
def test_sns_messages_that_are_no_payload_at_all_are_dropped(
    handler: Callable[[Any, Any], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    messages = st.builds(_sns, garbage_text, st.just("fuzz-garbage"))
    _fuzz(handler, messages, capsys, examples=20)

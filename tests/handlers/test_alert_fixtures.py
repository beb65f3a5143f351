"""Every shared AWS fixture reaches the handler it is meant for and ends in a card or a skip,
never in a parse failure (the test picks up fixtures added later too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.services import InMemoryServices, snapshot
from handlers.alarm import handler as alarm_handler
from handlers.cost_anomaly import handler as cost_handler
from tests.alert_events import FIXTURES_AWS, event_for
from tests.handlers.alert_env import FakeContext, alert_env

FIXTURES = sorted(path.name for path in Path(FIXTURES_AWS).glob("*.json"))
# Fixtures whose payload is not for tunebot: they must be skipped, with a reason.
SKIPPED = {
    "sns-cloudwatch-alarm-ec2-placeholders.json",
    "eventbridge-alarm-ec2-single-metric.json",
    "cost-anomaly-sns-message.json",
}


def test_the_fixtures_are_there() -> None:
    assert len(FIXTURES) >= 7


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_a_card_or_a_skip(name: str) -> None:
    handler = cost_handler if name.startswith("cost-anomaly") else alarm_handler
    functions = [
        snapshot(
            "checkout-api",
            region="ap-southeast-1",
            arn="arn:aws:lambda:ap-southeast-1:123456789012:function:checkout-api",
        ),
    ]
    region = "ap-southeast-1" if "sns-cloudwatch-alarm-lambda" in name else "eu-west-3"
    # eu-west-3 keeps the cost handler's attribution out of this test (it says "other region").
    with alert_env(InMemoryServices(functions), region=region) as env:
        (result,) = handler(event_for(name), FakeContext())["results"]
        expected = "skipped" if name in SKIPPED else "posted"
        assert result["outcome"] == expected, result
        assert len(env.posts()) == (0 if name in SKIPPED else 1)

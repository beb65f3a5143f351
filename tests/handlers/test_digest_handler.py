"""``handlers.digest.handler``: the weekly digest with savings, risks and measured changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from aws.store import ChangeRecord
from bot.alerts import SlackTransientError
from fakes.services import InMemoryServices, memory_recommendation, snapshot
from handlers.digest import handler
from recommendations.changes import MemoryChange
from recommendations.recommendation import Severity
from tests.handlers.alert_env import DEFAULT_CHANNEL, FakeContext, alert_env, emitted, section_texts

CONTEXT = FakeContext()
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-23T09:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/tunebot-weekly-digest"],
    "detail": {},
}


def test_a_quiet_week_is_all_good(capsys: pytest.CaptureFixture[str]) -> None:
    with alert_env(InMemoryServices([snapshot("checkout-api"), snapshot("orders")])) as env:
        result = handler(SCHEDULED, CONTEXT)
        (post,) = env.posts()
    assert result["outcome"] == "posted" and result["all_good"] is True
    assert post["channel"] == DEFAULT_CHANNEL
    assert section_texts(post["blocks"]) == [
        ":white_check_mark: All good: 2 functions scanned, nothing to save or fix, and no "
        "changes this week."
    ]
    assert emitted(capsys)[0] == {"DigestRuns": 1, "DigestsPosted": 1}


def test_savings_risks_and_the_weeks_changes_with_their_effect() -> None:
    cheap = snapshot("checkout-api")
    risky = snapshot("orders")
    services = InMemoryServices([cheap, risky])
    saving = memory_recommendation(cheap, after=512)
    risk = memory_recommendation(
        risky,
        after=2048,
        title="Raise memory to stop out-of-memory kills",
        severity=Severity.HIGH,
        monthly_savings_usd=-3.0,
        trade_off="safety",
    )
    services.recommend(saving, risk)
    with alert_env(services, environ={"TUNEBOT_DIGEST_CHANNEL": "C0DIGEST"}) as env:
        applied_at = datetime.now(UTC) - timedelta(days=3)
        env.store.put_change(
            ChangeRecord(
                change_id="chg-1",
                function_name="orders",
                change=MemoryChange(function_name="orders", before=512, after=1024),
                description="Set memory of orders from 512 MB to 1024 MB",
                actor="U0ALICE",
                applied_at=applied_at,
            )
        )
        old = applied_at - timedelta(days=30)
        env.store.put_change(
            ChangeRecord(
                change_id="chg-0",
                function_name="orders",
                change=MemoryChange(function_name="orders", before=256, after=512),
                description="last month",
                actor="U0BOB",
                applied_at=old,
            )
        )
        stub = Stubber(env.session.client("cloudwatch"))
        # The period is the time since the change; its earlier datapoint is the baseline.
        earlier = applied_at - timedelta(days=3)
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {
                        "Id": "d0",
                        "Timestamps": [earlier, applied_at],
                        "Values": [400_000.0, 300_000.0],
                    },
                    {"Id": "n0", "Timestamps": [earlier, applied_at], "Values": [1000.0, 1200.0]},
                ]
            },
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY},
        )
        with stub:
            handler(SCHEDULED, CONTEXT)
            stub.assert_no_pending_responses()
        (post,) = env.posts()
    assert post["channel"] == "C0DIGEST"
    texts = section_texts(post["blocks"])
    assert texts[0] == "*$10.00/mo* to save across 2 functions."
    assert texts[1] == "*Risks*\norders: Raise memory to stop out-of-memory kills (high)"
    assert texts[2].startswith(
        "*Applied this week*\n• Set memory of orders from 512 MB to 1024 MB · by <@U0ALICE> "
    )
    assert texts[2].endswith(
        "average duration 400 → 250 ms, compute per invocation +25%, traffic 1.2×"
    )
    assert "last month" not in texts[2]
    apply = next(b for b in post["blocks"] if b["type"] == "actions")["elements"][0]
    assert apply["value"] == saving.id


def test_a_retried_schedule_posts_once_and_slack_errors_retry() -> None:
    with alert_env(InMemoryServices([snapshot("checkout-api")])) as env:
        env.slack.fail_next["chat.postMessage"] = "service_unavailable"
        with pytest.raises(SlackTransientError):
            handler(SCHEDULED, CONTEXT)
        handler(SCHEDULED, CONTEXT)
        handler(SCHEDULED, CONTEXT)
        assert len(env.posts()) == 2  # the refused attempt and one digest


def test_no_channel() -> None:
    with alert_env(InMemoryServices(), default_channel=None) as env:
        result: dict[str, Any] = handler(SCHEDULED, CONTEXT)
        assert env.slack.calls == []
    assert result == {"outcome": "no_channel"}


class FailingScan(InMemoryServices):
    def __init__(self, cause: Any) -> None:
        super().__init__()
        self.cause = cause

    def scan_fleet(self) -> Any:
        from service.analysis import service_error

        # As the analysis use case reports an adapter's failure: same sentence and verdict.
        raise service_error(self.cause) from self.cause


def test_a_failed_scan_is_reported_and_throttling_retries() -> None:
    from aws.errors import AccessDeniedError, ThrottledError

    denied = AccessDeniedError("Access denied: the credentials may not list Lambda functions.")
    with alert_env(FailingScan(denied)) as env:
        handler(SCHEDULED, CONTEXT)
        (post,) = env.posts()
    context = next(b for b in post["blocks"] if b["type"] == "context")
    assert context["elements"][0]["text"] == (
        "Could not read: fleet scan: Access denied: the credentials may not list Lambda functions."
    )
    with alert_env(FailingScan(ThrottledError("AWS kept throttling."))) as env:
        with pytest.raises(ThrottledError):
            handler(SCHEDULED, CONTEXT)
        assert env.posts() == []

"""A minimal, realistic context for every template under ``bot/templates/``.

``tests/bot/test_every_template_renders.py`` renders each template with its example, so a new
card cannot ship without one and a template cannot drift from the view model it is fed. Each
example is built the way the bot builds the real thing (``bot.views`` / ``bot.alerts``
builders, the keyword arguments ``bot.app`` and ``bot.alerts`` pass to ``render_blocks`` /
``render_view``), from one function with one memory recommendation.

Macro files (``_*.j2``) have no example: they are rendered through the templates importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts import (
    AlarmFacts,
    ChangeEffectView,
    CostCardView,
    DigestView,
    alarm_card_view,
    explanation_lines,
    finding_view,
)
from bot.settings import BotSettings
from bot.views import (
    SCAN_LIST_SIZE,
    BenchmarkView,
    card_summary,
    card_view,
    details_view,
    home_view,
    list_page_view,
    money,
    recommendation_view,
    savings_page_view,
    scan_view,
    slack_date,
)
from recommendations.alerts import AlertDiagnosis, CauseKind, LikelyCause
from recommendations.changes import MemoryChange
from recommendations.cost_explanation import explain_anomaly
from recommendations.recommendation import (
    Category,
    Confidence,
    Evidence,
    Recommendation,
    Severity,
)
from recommendations.snapshot import FunctionSnapshot, FunctionStats
from service.api import ChangeRecord, PendingApproval, StoredRecommendation

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
USER = "UALICE1"
SETTINGS = BotSettings()


def example_snapshot() -> FunctionSnapshot:
    name = "checkout-api"
    return FunctionSnapshot(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        account_id="123456789012",
        region="us-east-1",
        runtime="python3.12",
        memory_mb=1024,
        timeout_s=30,
        tags={SETTINGS.managed_tag_key: SETTINGS.managed_tag_value},
        stats=FunctionStats(
            window_days=14,
            invocations=4_000_000,
            duration_avg_ms=120.0,
            billed_duration_avg_ms=121.0,
            max_memory_used_mb=180,
        ),
    )


def example_recommendation() -> Recommendation:
    fn = example_snapshot()
    return Recommendation(
        function=fn.name,
        function_arn=fn.arn,
        region=fn.region,
        account_id=fn.account_id,
        rule_id="MEM-001",
        category=Category.MEMORY,
        severity=Severity.MEDIUM,
        title="Lower memory to 512 MB",
        rationale="Peak memory used is 180 MB of 1024 MB; the CPU is not the bottleneck.",
        evidence=(
            Evidence(label="Max memory used", value=180, unit="MB", source="logs"),
            Evidence(label="Invocations", value=4_000_000, source="metrics"),
        ),
        confidence=Confidence.HIGH,
        change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=512),
        monthly_cost_before_usd=20.0,
        monthly_cost_after_usd=10.0,
        monthly_savings_usd=10.0,
    )


def example_stored() -> StoredRecommendation:
    fn = example_snapshot()
    return StoredRecommendation(
        recommendation=example_recommendation(),
        function_tags=dict(fn.tags),
        cloudformation_stack=fn.cloudformation_stack,
        requested_by=USER,
        created_at=NOW,
        function_monthly_cost_usd=20.0,
    )


def example_change_record() -> ChangeRecord:
    rec = example_recommendation()
    return ChangeRecord(
        change_id="chg-0001",
        recommendation_id=rec.id,
        function=rec.function,
        description="Set memory of checkout-api from 1024 MB to 512 MB",
        applied_by=USER,
        applied_at=NOW - timedelta(days=2),
        approvers=(USER,),
    )


def _card() -> dict[str, Any]:
    card = card_view(example_snapshot(), [example_stored()], SETTINGS, requested_by=USER, now=NOW)
    return {"card": card}


def _card_summary() -> dict[str, Any]:
    fn = example_snapshot()
    summary = card_summary(
        fn.name, fn.region, fn.account_id, 20.0, open_savings=0.0, applied_savings=10.0, count=0
    )
    return {"summary": summary}


def _recommendation() -> dict[str, Any]:
    return {"rec": recommendation_view(example_stored(), SETTINGS)}


def _scan() -> dict[str, Any]:
    return {"scan": scan_view([example_recommendation()], 1, {}), "list_size": SCAN_LIST_SIZE}


def _unknown_function() -> dict[str, Any]:
    return {"name": "checkout-apl", "closest": ["checkout-api"], "region": ""}


def _help() -> dict[str, Any]:
    return {"apply_mode": SETTINGS.apply_mode.value}


def _notice() -> dict[str, Any]:
    return {"text": "Applied: memory of checkout-api is now 512 MB.", "icon": ":white_check_mark:"}


def _benchmark() -> dict[str, Any]:
    bench = BenchmarkView(
        function="checkout-api",
        summary="512 MB is as fast as 1024 MB for half the cost.",
        invocations=60,
        tuning_cost=money(0.0042),
        results=("512 MB: 118 ms, $0.0000010", "1024 MB: 117 ms, $0.0000020"),
        recommendation=recommendation_view(example_stored(), SETTINGS),
    )
    return {"bench": bench}


def _details_modal() -> dict[str, Any]:
    return {"details": details_view(example_stored(), SETTINGS)}


def _list_modal() -> dict[str, Any]:
    fn = example_snapshot()
    return {"page": list_page_view(fn.name, fn.arn, [example_stored()], SETTINGS, 0)}


def _savings_modal() -> dict[str, Any]:
    return {"page": savings_page_view([example_recommendation()], 0)}


def _notice_modal() -> dict[str, Any]:
    return {"text": "Reading the top savings…", "icon": ""}


def _home() -> dict[str, Any]:
    home = home_view(
        USER,
        [example_recommendation()],
        [PendingApproval(stored=example_stored(), approvers=(USER,))],
        [example_change_record()],
        SETTINGS,
    )
    return {"home": home}


def _alarm_finding_diagnosis() -> AlertDiagnosis:
    return AlertDiagnosis(
        function="checkout-api",
        metrics=("Duration",),
        causes=(
            LikelyCause(
                kind=CauseKind.NEAR_TIMEOUT,
                summary="Invocations run close to the 30 s timeout.",
                evidence=(Evidence(label="p99 duration", value=29_100, unit="ms"),),
                confidence=Confidence.MEDIUM,
            ),
        ),
        unknowns=("No REPORT lines were read, so cold starts are unknown.",),
    )


def _memory_increase() -> Recommendation:
    fn = example_snapshot()
    return Recommendation(
        function=fn.name,
        function_arn=fn.arn,
        region=fn.region,
        account_id=fn.account_id,
        rule_id="MEM-002",
        category=Category.MEMORY,
        severity=Severity.MEDIUM,
        title="Raise memory to 1769 MB",
        rationale="The function is CPU-bound below one vCPU.",
        confidence=Confidence.MEDIUM,
        change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=1769),
        monthly_savings_usd=1.5,
    )


def _alert_alarm() -> dict[str, Any]:
    fn = example_snapshot()
    diagnosis = _alarm_finding_diagnosis()
    # The memory cut can only lengthen invocations: on a Duration alarm it is another saving.
    fixes, other_savings = diagnosis.fixes([example_recommendation(), _memory_increase()])
    finding = finding_view(
        function=fn.name,
        region=fn.region,
        recommendations=fixes,
        other_savings=other_savings,
        settings=SETTINGS,
        tags=dict(fn.tags),
        cloudformation_stack=fn.cloudformation_stack,
        now=NOW,
        diagnosis=diagnosis,
    )
    facts = AlarmFacts(
        alarm_name="checkout-api-duration",
        state="ALARM",
        previous_state="OK",
        reason="Threshold Crossed: 1 datapoint [29100.0] was greater than the threshold (25000.0).",
        changed_at=NOW,
        metric_names=("Duration",),
        statistic="Maximum",
        comparison="GreaterThanThreshold",
        threshold=25_000.0,
        observed_value=29_100.0,
        region=fn.region,
        account_id=fn.account_id,
    )
    return {"card": alarm_card_view(facts, [finding], updated_at=NOW), "slack_date": slack_date}


def _alert_cost() -> dict[str, Any]:
    fn = example_snapshot()
    finding = finding_view(
        function=fn.name,
        region=fn.region,
        recommendations=[example_recommendation()],
        settings=SETTINGS,
        tags=dict(fn.tags),
        cloudformation_stack=fn.cloudformation_stack,
        now=NOW,
        changes=("traffic 3.0× (1.2M → 3.6M invocations)",),
        cost_line="$12.00 → $36.00 over the anomaly's days",
    )
    card = CostCardView(
        anomaly_id="anomaly-1",
        service="AWS Lambda",
        total_impact=money(24.0),
        impact_percentage="200.00%",
        actual=money(36.0),
        expected=money(12.0),
        window_text="2026-11-24 – 2026-11-25",
        account="123456789012",
        root_causes=("AWS Lambda · us-east-1 · USE1-Lambda-GB-Second",),
        functions=(finding,),
        attribution_note=None,
        explained=explanation_lines(
            explain_anomaly(
                24.0, 18.0, 18.0, functions_compared=4, region=fn.region, account_id=fn.account_id
            )
        ),
        updated_at=NOW,
    )
    return {"card": card, "slack_date": slack_date}


def _alert_reply() -> dict[str, Any]:
    return {"icon": ":white_check_mark:", "text": f"Resolved: back to OK {slack_date(NOW)}."}


def _digest_weekly() -> dict[str, Any]:
    record = example_change_record()
    digest = DigestView(
        period_text="2026-11-19 – 2026-11-26",
        functions=1,
        total_savings=money(10.0),
        top=(recommendation_view(example_stored(), SETTINGS),),
        risks=("checkout-api: Invocations run close to the timeout (high)",),
        changes=(
            ChangeEffectView(
                description=record.description,
                applied_by=record.applied_by,
                applied_at=record.applied_at,
                effect="cost per invocation down 48%",
            ),
        ),
    )
    return {"digest": digest}


EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "alert_alarm.j2": _alert_alarm,
    "alert_cost.j2": _alert_cost,
    "alert_reply.j2": _alert_reply,
    "benchmark.j2": _benchmark,
    "card.j2": _card,
    "card_summary.j2": _card_summary,
    "details_modal.j2": _details_modal,
    "digest_weekly.j2": _digest_weekly,
    "help.j2": _help,
    "home.j2": _home,
    "list_modal.j2": _list_modal,
    "notice.j2": _notice,
    "notice_modal.j2": _notice_modal,
    "recommendation.j2": _recommendation,
    "savings_modal.j2": _savings_modal,
    "scan.j2": _scan,
    "unknown_function.j2": _unknown_function,
}

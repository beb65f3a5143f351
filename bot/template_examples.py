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
from recommendations.snapshot import Architecture, FunctionSnapshot, FunctionStats
from recommendations.tuning.observation import ErrorKind
from recommendations.tuning.result import TuningResult
from service.api import BenchmarkOutcome, ChangeRecord, PendingApproval, StoredRecommendation
from service.records import ACTOR_PREFIX

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
        function_name=rec.function,
        function_arn=rec.function_arn,
        change=rec.change,
        description="Set memory of checkout-api from 1024 MB to 512 MB",
        actor=ACTOR_PREFIX + USER,
        applied_at=NOW - timedelta(days=2),
        approvers=(ACTOR_PREFIX + USER,),
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


def example_tuning_result() -> TuningResult:
    """A two-architecture adaptive result: 1024 MB x86_64 now, 512 MB arm64 the winner."""
    from recommendations.tuning.objective import Objective
    from recommendations.tuning.request import SearchKind
    from recommendations.tuning.result import ConfigurationEstimate

    def measured(memory: int, arch: Architecture, ms: float, init: float) -> ConfigurationEstimate:
        return ConfigurationEstimate(
            memory_mb=memory,
            architecture=arch,
            duration_ms=ms,
            duration_p99_ms=ms * 1.4,
            cost_per_invocation_usd=ms / 1000 * memory / 1024 * 0.0000166667 + 0.0000002,
            invocations=6,
            warm_invocations=5,
            max_memory_used_mb=180,
            cold_init_ms=init,
        )

    x86, arm = Architecture.X86_64, Architecture.ARM64
    results = (
        measured(1024, x86, 118.0, 310.0),
        measured(512, x86, 131.0, 322.0),
        measured(512, arm, 126.0, 298.0),
        measured(2048, arm, 71.0, 281.0),
        ConfigurationEstimate(
            memory_mb=128, architecture=arm, feasible=False, error=ErrorKind.OUT_OF_MEMORY,
            failures={"out_of_memory": 2}, invocations=2,
        ),
    )  # fmt: skip
    return TuningResult(
        function_name="checkout-api",
        search=SearchKind.ADAPTIVE,
        objective=Objective(),
        best=results[2],
        current=results[0],
        results=results,
        curve=tuple(
            ConfigurationEstimate(
                memory_mb=m,
                architecture=a,
                duration_ms=40 + 60_000 / m,
                cost_per_invocation_usd=(40 + 60_000 / m) / 1000 * m / 1024 * 0.0000133334,
            )
            for a in (x86, arm)
            for m in (256, 384, 512, 768, 1024, 1536, 2048)
        ),
        invocations=26,
        gb_seconds=2.1,
        tuning_cost_usd=0.0042,
        confidence=Confidence.HIGH,
        confidence_statement=(
            "In 90% of 30 resampled fits the choice is within 0.4% of the best configuration."
        ),
        stop_reason="the choice settled",
        invocations_per_month=5_000_000,
    )


def _benchmark() -> dict[str, Any]:
    from bot.benchmark_card import benchmark_view

    outcome = BenchmarkOutcome(
        function="checkout-api",
        summary="512 MB is as fast as 1024 MB for half the cost.",
        invocations=60,
        tuning_cost_usd=0.0042,
        result=example_tuning_result(),
        region="us-east-1",
    )
    follow_up = recommendation_view(example_stored(), SETTINGS)
    return {"bench": benchmark_view(outcome, follow_up, chart_file_id="F0123CHART")}


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

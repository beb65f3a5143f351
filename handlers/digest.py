"""Lambda entry point for the weekly digest: ``handlers.digest.handler``, run by a schedule.

It scans the fleet, and posts the top savings (with their Apply buttons), the risks (high and
critical findings), and the week's applied changes with their measured effect since (each
function's duration and traffic in equal windows before and after the change). A week with
nothing to say gets a short "all good". It posts to ``TUNEBOT_DIGEST_CHANNEL``, else
``TUNEBOT_DEFAULT_CHANNEL``. See ``docs/alerts.md``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handlers.alerting import (
    AlertRuntime,
    count,
    is_transient,
    logger,
    metrics,
    retried_error,
    runtime,
    traced,
)

DIGEST_CHANNEL_ENV = "TUNEBOT_DIGEST_CHANNEL"
WEEK = timedelta(days=7)
TOP_SAVINGS = 5
MAX_RISKS = 10
MAX_CHANGES = 15


def _period_text(now: datetime) -> str:
    start = now - WEEK
    return f"{start:%d %b} – {now:%d %b %Y}"


def _stored_for(rt: AlertRuntime, rec: Any) -> Any:
    """The stored recommendation behind a button; analysing and storing it when missing."""
    from service.errors import ServiceError

    stored = rt.services.get_recommendation(rec.id)
    if stored is not None:
        return stored
    try:
        analysis = rt.services.analyze_function(rec.function)
    except ServiceError as error:
        logger.warning("could not store a digest recommendation", extra={"reason": str(error)})
        return None
    rt.services.save_recommendations(analysis, requested_by=None)
    return rt.services.get_recommendation(rec.id)


def _effect(rt: AlertRuntime, record: Any, now: datetime) -> str:
    from aws.cost_attribution import fetch_usage
    from aws.errors import AwsError, ThrottledError
    from recommendations.alerts import describe_effect

    if record.status.value == "undone":
        return "undone since"
    if now - record.applied_at < timedelta(hours=1):
        return "too early to measure (applied less than an hour ago)"
    try:
        usage = fetch_usage(
            rt.session, [record.function_name], window_start=record.applied_at, window_end=now
        )
    except ThrottledError:
        raise
    except AwsError as error:
        return f"not measured: {error}"
    before, after = usage[record.function_name]
    change = record.change
    memory = (change.before, change.after) if change.kind == "memory" else (None, None)
    return describe_effect(before, after, memory_before_mb=memory[0], memory_after_mb=memory[1])


def build_digest(rt: AlertRuntime) -> Any:
    from bot.alerts import ChangeEffectView, DigestView
    from bot.views import money, recommendation_view
    from recommendations.engine import FleetReport
    from recommendations.recommendation import Severity
    from service.errors import ServiceError
    from service.records import ChangeStatus

    now = rt.now()
    try:
        fleet = rt.services.scan_fleet()
    except ServiceError as error:
        if error.retryable:
            raise
        # A digest that says the scan failed beats a silent week.
        fleet = FleetReport(functions=(), recommendations=(), errors={"fleet scan": str(error)})
    dismissed = rt.services.active_dismissals(list(fleet.recommendations), now)
    open_recs = [rec for rec in fleet.recommendations if rec.id not in dismissed]
    saving = sorted(
        (rec for rec in open_recs if (rec.monthly_savings_usd or 0.0) > 0),
        key=lambda rec: -(rec.monthly_savings_usd or 0.0),
    )
    top = []
    for rec in saving[:TOP_SAVINGS]:
        stored = _stored_for(rt, rec)
        if stored is not None:
            top.append(recommendation_view(stored, rt.settings))
    risks = [
        f"{rec.function}: {rec.title} ({rec.severity.value})"
        for rec in open_recs
        if rec.severity.rank >= Severity.HIGH.rank
    ]
    changes = [
        record
        for record in rt.store.recent_changes(limit=50)
        # Changes that took effect (in force or undone since); not undos, not failed attempts.
        if record.applied_at >= now - WEEK
        and not record.is_undo
        and record.status in (ChangeStatus.APPLIED, ChangeStatus.UNDONE)
    ]
    return DigestView(
        period_text=_period_text(now),
        functions=len(fleet.functions),
        total_savings=money(sum(rec.monthly_savings_usd or 0.0 for rec in saving)),
        top=tuple(top),
        more_savings=max(0, len(saving) - len(top)),
        risks=tuple(risks[:MAX_RISKS]),
        changes=tuple(
            ChangeEffectView(
                description=record.description,
                applied_by=record.applied_by,
                applied_at=record.applied_at,
                effect=_effect(rt, record, now),
            )
            for record in changes[:MAX_CHANGES]
        ),
        errors=tuple(f"{name}: {reason}" for name, reason in sorted(fleet.errors.items()))[:5],
    )


def post_digest(rt: AlertRuntime) -> dict[str, Any]:
    from bot.alerts import render_digest

    channel = rt.environ.get(DIGEST_CHANNEL_ENV) or rt.default_channel
    if not channel:
        logger.error("no channel for the digest: set TUNEBOT_DIGEST_CHANNEL or the default")
        count("DeliveryFailures")
        return {"outcome": "no_channel"}
    view = build_digest(rt)
    ts = rt.poster.post(channel, render_digest(view))
    count("DigestsPosted")
    logger.info("digest posted", extra={"channel": channel, "ts": ts, "all_good": view.all_good})
    return {"outcome": "posted", "channel": channel, "ts": ts, "all_good": view.all_good}


@metrics.log_metrics
@traced
def handler(event: Any, context: Any) -> dict[str, Any]:
    """A scheduled event in (its id makes retries post once); the digest posted."""
    from bot.alerts import SlackDeliveryError

    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    count("DigestRuns")
    rt = runtime()
    rt.register_context(context)
    event_id = event.get("id") if isinstance(event, dict) else None
    # Without an event id (a manual run), one digest per ISO week.
    key = f"digest#{event_id or rt.now().strftime('%G-W%V')}"
    logger.set_correlation_id(key)

    def run(*, item: dict[str, str]) -> dict[str, Any]:
        return post_digest(rt)

    try:
        result: dict[str, Any] = rt.idempotent("digest", run)(item={"key": key})
    except SlackDeliveryError as error:
        logger.error("Slack refused the digest", extra={"reason": str(error)})
        count("DeliveryFailures")
        return {"outcome": "delivery_failed", "reason": str(error)}
    except Exception as error:
        if not is_transient(error):
            raise
        logger.exception("transient failure; the digest will be retried")
        count("TransientFailures")
        raise retried_error(error) from error.__cause__
    return result

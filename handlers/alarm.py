"""Lambda entry point for CloudWatch alarms: ``handlers.alarm.handler``.

Subscribe it to the SNS topic of your alarms, to an EventBridge rule on "CloudWatch Alarm State
Change", or name it as an alarm's Lambda action. For an alarm on Lambda functions it posts a
card with what fired, the likely cause and the recommendations with their buttons; the OK
transition updates the same card to resolved and a flapping alarm stays in one thread. Other
alarms are skipped (logged at info, counted). See ``docs/alerts.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws.events.alarm import AlarmEvent, AlarmKind, AlarmState, parse_alarm
from aws.events.envelopes import Envelope, PayloadKind, Rejected, unwrap
from aws.events.targets import FunctionTarget, lambda_targets, watches_lambda
from handlers.alerting import (
    AlertRuntime,
    Analysed,
    analyse_for_alert,
    count,
    handle_envelope,
    logger,
    metrics,
    published,
    runtime,
    traced,
)

if TYPE_CHECKING:
    from bot.alerts import AlarmFacts
    from recommendations.alerts import AlertDiagnosis
    from service.api import FunctionAnalysis


def _facts(alarm: AlarmEvent, metric_names: tuple[str, ...]) -> AlarmFacts:
    from bot.alerts import AlarmFacts

    expression = next((m.expression for m in alarm.metrics if m.expression and m.return_data), None)
    return AlarmFacts(
        alarm_name=alarm.alarm_name,
        alarm_url=alarm.console_url,
        state=alarm.state.value,
        previous_state=alarm.previous_state.value if alarm.previous_state else None,
        reason=alarm.reason,
        changed_at=alarm.state_changed_at,
        description=alarm.description,
        kind=alarm.kind.value,
        metric_names=metric_names,
        expression=expression,
        statistic=alarm.statistic,
        comparison=alarm.comparison,
        threshold=alarm.threshold,
        band_lower=alarm.band_lower,
        band_upper=alarm.band_upper,
        observed_value=alarm.observed_value,
        region=alarm.region,
        account_id=alarm.account_id,
        child_alarms=alarm.child_alarms,
    )


def _targets(rt: AlertRuntime, alarm: AlarmEvent) -> tuple[FunctionTarget, ...]:
    if alarm.kind is not AlarmKind.COMPOSITE or not alarm.child_alarms:
        return lambda_targets(alarm)
    from aws.alarm_details import child_metrics

    session = rt.session.for_region(alarm.region) if alarm.region else rt.session
    children = child_metrics(session, alarm.child_alarms)
    return lambda_targets(alarm.model_copy(update={"metrics": children}))


def _diagnoser(
    alarm: AlarmEvent, target: FunctionTarget
) -> Callable[[FunctionAnalysis], AlertDiagnosis]:
    from recommendations.alerts import AlarmSignal, diagnose_alarm

    period = next((m.period_s for m in alarm.data_metrics if m.period_s), None)
    signal = AlarmSignal(
        metric_names=target.metric_names,
        statistic=alarm.statistic,
        threshold=alarm.threshold,
        observed_value=alarm.observed_value if alarm.kind is not AlarmKind.METRIC_MATH else None,
        band_upper=alarm.band_upper,
        period_s=period,
        is_expression=alarm.kind is AlarmKind.METRIC_MATH,
    )

    def diagnose(analysis: FunctionAnalysis) -> AlertDiagnosis:
        return diagnose_alarm(analysis.snapshot, signal, analysis.report.recommendations)

    return diagnose


def _reply_text(alarm: AlarmEvent) -> tuple[str, str]:
    from bot.alerts import number
    from bot.views import slack_date

    when = f" {slack_date(alarm.state_changed_at)}" if alarm.state_changed_at else ""
    if alarm.state is AlarmState.OK:
        return ":white_check_mark:", f"Resolved: back to OK{when}."
    if alarm.state is AlarmState.ALARM:
        value = f" with {number(alarm.observed_value)}" if alarm.observed_value is not None else ""
        return ":rotating_light:", f"In ALARM again{when}{value}."
    return ":grey_question:", f"Insufficient data{when}: the metric stopped reporting."


def process_alarm(rt: AlertRuntime, alarm: AlarmEvent) -> dict[str, Any]:
    """Post or update the alarm's card. Returns what happened (stored for idempotency)."""
    from bot.alerts import alarm_card_view, render_alarm_card, render_reply
    from service.alerts import route

    targets = _targets(rt, alarm)
    if not targets:
        reason = (
            "a Lambda alarm that names no function"
            if watches_lambda(alarm)
            else "not an alarm on Lambda functions"
        )
        logger.info("alarm skipped", extra={"reason": reason, "alarm": alarm.alarm_name})
        count("EventsSkipped")
        return {"outcome": "skipped", "reason": reason}
    publisher = rt.publisher
    thread, seen = publisher.existing(alarm.thread_key)
    if thread is None and alarm.state is not AlarmState.ALARM:
        reason = f"{alarm.state.value} with no open alert for this alarm"
        logger.info("alarm skipped", extra={"reason": reason, "alarm": alarm.alarm_name})
        count("EventsSkipped")
        return {"outcome": "skipped", "reason": reason}
    analysed: list[Analysed] = [
        analyse_for_alert(
            rt,
            target.name,
            target.region,
            diagnose=_diagnoser(alarm, target),
            account_id=alarm.account_id,
        )
        for target in targets[:3]
    ]
    alarm_tags: dict[str, str] = {}
    channel = route([a.tags for a in analysed], {}, None)
    if channel is None:
        from aws.alarm_details import alarm_tags as read_alarm_tags

        session = rt.session.for_region(alarm.region) if alarm.region else rt.session
        alarm_tags = read_alarm_tags(session, alarm.alarm_arn)
        channel = route([], alarm_tags, rt.default_channel)
    if channel is None:
        logger.error(
            "no channel for the alert: tag the function or alarm with tunebot:channel or set "
            "TUNEBOT_DEFAULT_CHANNEL",
            extra={"alarm": alarm.alarm_name},
        )
        count("DeliveryFailures")
        return {"outcome": "no_channel"}
    metric_names = tuple(dict.fromkeys(n for t in targets for n in t.metric_names))
    findings = [a.finding for a in analysed]
    if len(targets) > 3:
        from bot.alerts import problem_view

        findings.extend(problem_view(t.name, t.region, "not analysed") for t in targets[3:])
    card = render_alarm_card(
        alarm_card_view(
            _facts(alarm, metric_names), findings, transitions=seen + 1, updated_at=rt.now()
        )
    )
    reply = render_reply(*_reply_text(alarm)) if thread is not None else None
    result = publisher.publish(
        alarm.thread_key,
        state=alarm.state.value,
        channel=channel,
        card=card,
        reply=reply,
        now=rt.now(),
    )
    return published(result)


def _handle_envelope(rt: AlertRuntime, item: Envelope | Rejected, raw: Any) -> dict[str, Any]:
    # The transition, not the delivery, is the key: a redelivered SNS message and the same
    # change arriving through EventBridge too are both handled once.
    return handle_envelope(
        rt,
        item,
        raw,
        expected=PayloadKind.ALARM,
        description="a CloudWatch alarm",
        parse=parse_alarm,
        key=lambda alarm: alarm.transition_key,
        handle=process_alarm,
    )


@metrics.log_metrics
@traced
def handler(event: Any, context: Any) -> dict[str, Any]:
    """SNS, EventBridge or alarm-action event in; a summary out. Raises only to be retried."""
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    rt = runtime()
    rt.register_context(context)
    results = [_handle_envelope(rt, item, event) for item in unwrap(event)]
    return {"results": results}

"""Lambda entry point for AWS Cost Anomaly Detection: ``handlers.cost_anomaly.handler``.

Subscribe it to the anomaly monitor's SNS topic or to an EventBridge rule on ``aws.ce``
"Anomaly Detected". For a Lambda root cause it attributes the increase to the functions whose
GB-seconds and requests grew most against the window before, and shows what changed and their
recommendations. Repeats of the same ``anomalyId`` update the same card. Anomalies in other
services get a brief card when ``TUNEBOT_COST_ALERTS=all``, else they are skipped (the default).
See ``docs/alerts.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws.events.cost_anomaly import CostAnomaly, parse_cost_anomaly
from aws.events.envelopes import Envelope, PayloadKind, Rejected, unwrap
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
    from recommendations.cost_explanation import AnomalyExplanation

COST_ALERTS_ENV = "TUNEBOT_COST_ALERTS"
TOP_FUNCTIONS = 3
# A contributor is shown when its increase is at least this share of the largest one.
NOTABLE_SHARE = 0.05


def _money(value: float | None) -> str:
    from bot.views import money

    return money(value)


def _window_text(anomaly: CostAnomaly) -> str:
    window = anomaly.window()
    if window is None:
        return "unknown"
    start, end = window
    last_day = end.date().toordinal() - 1
    if start.date().toordinal() == last_day:
        return f"{start:%Y-%m-%d}"
    from datetime import date

    return f"{start:%Y-%m-%d} – {date.fromordinal(last_day):%Y-%m-%d}"


def _root_cause_lines(anomaly: CostAnomaly) -> tuple[str, ...]:
    lines = []
    for cause in anomaly.root_causes:
        parts = [
            part
            for part in (
                cause.service,
                cause.region,
                cause.usage_type,
                cause.linked_account_name or cause.linked_account,
            )
            if part
        ]
        text = " · ".join(parts) or "unknown"
        if cause.contribution_usd is not None:
            text += f": {_money(cause.contribution_usd)}"
        lines.append(text)
    return tuple(lines)


def _explanation(
    rt: AlertRuntime,
    anomaly: CostAnomaly,
    explained_usd: float,
    shown_usd: float,
    functions_compared: int,
) -> AnomalyExplanation:
    from recommendations.cost_explanation import AnomalyRootCause, explain_anomaly

    return explain_anomaly(
        anomaly.impact.total_impact_usd,
        explained_usd,
        shown_usd,
        functions_compared=functions_compared,
        region=rt.session.region,
        account_id=rt.account_id(),
        root_causes=[
            AnomalyRootCause(
                region=cause.region,
                account_id=cause.linked_account,
                usage_type=cause.usage_type,
                contribution_usd=cause.contribution_usd,
            )
            for cause in anomaly.lambda_root_causes
        ],
    )


def _compared_window(
    rt: AlertRuntime, window: tuple[datetime, datetime]
) -> tuple[datetime, datetime]:
    """The anomaly's days up to now: AWS names today while it is under way, and comparing
    part of a day with whole days before would understate its traffic and cost."""
    start, end = window
    now = rt.now()
    return (start, now) if start < now < end else window


def _attribution(
    rt: AlertRuntime, anomaly: CostAnomaly
) -> tuple[list[Analysed], str | None, AnomalyExplanation | None]:
    """The top contributing functions as card sections, or a note saying why there are none,
    and how much of the anomaly they explain when tunebot could compare usage."""
    from aws.cost_attribution import attribute_cost
    from aws.errors import AwsError, ThrottledError

    anomaly_window = anomaly.window()
    if anomaly_window is None:
        return [], "The anomaly has no start date, so tunebot cannot compare usage.", None
    window = _compared_window(rt, anomaly_window)
    accounts = [c.linked_account for c in anomaly.lambda_root_causes if c.linked_account]
    own_account = rt.account_id()
    if accounts and own_account and accounts[0] != own_account:
        return (
            [],
            (
                f"The increase is in account {accounts[0]}; tunebot reads account {own_account} "
                "and attributes Lambda costs there only."
            ),
            None,
        )
    regions = [cause.region for cause in anomaly.lambda_root_causes if cause.region]
    region = regions[0] if regions else rt.session.region
    if region != rt.session.region:
        return (
            [],
            (
                f"The increase is in {region}; tunebot runs in {rt.session.region} and "
                "attributes Lambda costs in its own region only."
            ),
            None,
        )
    try:
        attribution = attribute_cost(rt.session, window_start=window[0], window_end=window[1])
    except ThrottledError:
        raise
    except AwsError as error:
        return [], f"tunebot could not attribute the increase to functions: {error}", None
    if not attribution.contributors:
        days = max(1, round((window[1] - window[0]).total_seconds() / 86400))
        span = "day" if days == 1 else f"{days} days"
        return (
            [],
            (
                f"No function's compute or request cost grew against the {span} before "
                f"({attribution.functions_compared} functions compared in {region})."
            ),
            _explanation(rt, anomaly, 0.0, 0.0, attribution.functions_compared),
        )
    analysed = []
    top_increase = attribution.contributors[0].cost_increase_usd
    # Functions that barely moved are noise next to the ones that made the anomaly.
    notable = [
        c for c in attribution.contributors if c.cost_increase_usd >= NOTABLE_SHARE * top_increase
    ]
    shown = notable[:TOP_FUNCTIONS]
    for contributor in shown:
        cost_line = (
            f"{_money(contributor.cost_before_usd)} → {_money(contributor.cost_during_usd)} "
            f"(+{_money(contributor.cost_increase_usd)}; "
            f"{contributor.gb_seconds_before:,.0f} → {contributor.gb_seconds_during:,.0f} GB-s)"
        )
        changes = (
            *contributor.changes,
            *_changes_by_tunebot(
                rt, contributor.function_name, attribution.previous_start, window[1]
            ),
        )
        analysed.append(
            analyse_for_alert(
                rt,
                contributor.function_name,
                region,
                changes=changes or ("no change in traffic, duration or deploys",),
                cost_line=cost_line,
                limit=2,
            )
        )
    up_to_now = f" up to {window[1]:%H:%M} UTC" if window != anomaly_window else ""
    note = (
        f"Top contributors among {attribution.functions_compared} functions in {region}, "
        f"comparing {_window_text(anomaly)}{up_to_now} with the same span before "
        f"(+{_money(attribution.total_increase_usd)} estimated in all)."
    )
    explanation = _explanation(
        rt,
        anomaly,
        attribution.total_increase_usd,
        sum(c.cost_increase_usd for c in shown),
        attribution.functions_compared,
    )
    return analysed, note, explanation


def _changes_by_tunebot(
    rt: AlertRuntime, function: str, since: datetime, until: datetime
) -> tuple[str, ...]:
    """Changes applied through tunebot in the compared span: a memory change made from a card
    is named as such, not only as "deployed or reconfigured"."""
    named = []
    for record in rt.store.changes_for_function(function, limit=20):
        # Undos and attempts that changed nothing are not changes of the function's spend.
        if record.is_undo or not since <= record.applied_at < until:
            continue
        when = f"applied with tunebot {record.applied_at:%Y-%m-%d %H:%M} UTC"
        if record.undone_at is not None:
            when += f", undone {record.undone_at:%Y-%m-%d %H:%M} UTC"
        elif not record.in_force:
            continue
        named.append(f"{record.description} ({when})")
    return tuple(named)


def process_anomaly(rt: AlertRuntime, anomaly: CostAnomaly) -> dict[str, Any]:
    from bot.alerts import CostCardView, explanation_lines, render_cost_card, render_reply
    from service.alerts import route

    all_services = (rt.environ.get(COST_ALERTS_ENV) or "lambda").strip().lower() == "all"
    if not anomaly.is_lambda and not all_services:
        reason = "not a Lambda anomaly (set TUNEBOT_COST_ALERTS=all to post those too)"
        logger.info("anomaly skipped", extra={"reason": reason, "anomaly": anomaly.anomaly_id})
        count("EventsSkipped")
        return {"outcome": "skipped", "reason": reason}
    key = f"anomaly:{anomaly.anomaly_id}"
    publisher = rt.publisher
    thread, seen = publisher.existing(key)
    analysed, note, explanation = (
        _attribution(rt, anomaly) if anomaly.is_lambda else ([], None, None)
    )
    channel = route([a.tags for a in analysed], {}, rt.default_channel)
    if channel is None:
        logger.error(
            "no channel for the alert: set TUNEBOT_DEFAULT_CHANNEL",
            extra={"anomaly": anomaly.anomaly_id},
        )
        count("DeliveryFailures")
        return {"outcome": "no_channel"}
    impact = anomaly.impact
    service = anomaly.dimension_value or next(
        (c.service for c in anomaly.root_causes if c.service), "an AWS service"
    )
    account = anomaly.account_id
    if anomaly.account_name and account:
        account = f"{anomaly.account_name} ({account})"
    view = CostCardView(
        anomaly_id=anomaly.anomaly_id,
        details_link=anomaly.details_link,
        service=service,
        total_impact=_money(impact.total_impact_usd),
        impact_percentage=(
            f"{impact.total_impact_percentage:,.2f}%"
            if impact.total_impact_percentage is not None
            else None
        ),
        actual=_money(impact.total_actual_spend_usd),
        expected=_money(impact.total_expected_spend_usd),
        window_text=_window_text(anomaly),
        account=account,
        root_causes=_root_cause_lines(anomaly),
        functions=tuple(a.finding for a in analysed),
        attribution_note=note,
        explained=explanation_lines(explanation) if explanation is not None else (),
        updates=seen + 1,
        updated_at=rt.now(),
    )
    reply = None
    if thread is not None:
        reply = render_reply(
            ":money_with_wings:",
            f"Updated: the impact is now {view.total_impact} ({view.actual} vs {view.expected}).",
        )
    result = publisher.publish(
        key, state="open", channel=channel, card=render_cost_card(view), reply=reply, now=rt.now()
    )
    return published(result)


def _handle_envelope(rt: AlertRuntime, item: Envelope | Rejected, raw: Any) -> dict[str, Any]:
    # The delivery is the key: a redelivered message is handled once, while a later alert for
    # the same anomaly (a new delivery with new figures) updates its card.
    return handle_envelope(
        rt,
        item,
        raw,
        expected=PayloadKind.COST_ANOMALY,
        description="a cost anomaly",
        parse=parse_cost_anomaly,
        key=lambda anomaly: f"{anomaly.anomaly_id}#{anomaly.delivery_id}",
        handle=process_anomaly,
    )


@metrics.log_metrics
@traced
def handler(event: Any, context: Any) -> dict[str, Any]:
    """SNS or EventBridge event in; a summary out. Raises only to be retried."""
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    rt = runtime()
    rt.register_context(context)
    return {"results": [_handle_envelope(rt, item, event) for item in unwrap(event)]}

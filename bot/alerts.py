"""Alert cards for alarms, cost anomalies and the weekly digest, and how they reach Slack.

View models here are fed by ``handlers`` (which owns the AWS side) and rendered by the
``alert_*.j2`` / ``digest_*.j2`` templates. Recommendations inside alert cards are rendered with
the same ``_recommendation.j2`` blocks as ``/tune`` cards, so the Apply, Benchmark first,
Details and Dismiss buttons work the same way.

:class:`AlertPublisher` keeps one Slack thread per alert (an alarm ARN or an anomaly id): the
first event posts the card, later ones update it in place and reply in its thread, so a flapping
alarm makes one thread instead of a storm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import BotError
from bot.rendering import escape_mrkdwn, render_blocks
from bot.settings import BotSettings
from bot.views import (
    CARD_STATES,
    RecommendationView,
    RecState,
    money,
    recommendation_view,
    savings_phrase,
    slack_date,
)
from recommendations.alerts import AlertDiagnosis, worsened_metric
from recommendations.cost_explanation import AnomalyExplanation
from recommendations.recommendation import Recommendation
from recommendations.snapshot import Frozen
from service.api import ChangeRecord, ChangeState, StoredRecommendation

if TYPE_CHECKING:
    from slack_sdk import WebClient

# A card holds at most 50 blocks: a recommendation takes up to 5, a function's frame 4,
# the card's own frame 8.
MAX_FUNCTIONS_PER_CARD = 3
MAX_RECOMMENDATIONS_PER_CARD = 5
# A thread record without a message this old means its poster died: post again.
ORPHANED_THREAD_AFTER = timedelta(seconds=30)
TRANSIENT_SLACK_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackTransientError(BotError):
    """Slack is rate limiting or failing; the event should be retried."""


class SlackDeliveryError(BotError):
    """Slack refused the message for good (bad channel, missing scope); retrying won't help."""


class AlertInProgressError(BotError):
    """Another invocation is posting this alert's first message right now; retry shortly."""


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    NO_DATA = "no_data"

    @property
    def icon(self) -> str:
        return {
            AlertStatus.FIRING: ":rotating_light:",
            AlertStatus.RESOLVED: ":white_check_mark:",
            AlertStatus.NO_DATA: ":grey_question:",
        }[self]


_COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": "≥",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "≤",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
    "GreaterThanUpperThreshold": "above the band",
    "LessThanLowerThreshold": "below the band",
}
_REASON_COMPARISONS = (
    ("greater than or equal to the threshold", "≥"),
    ("less than or equal to the threshold", "≤"),
    ("greater than the threshold", ">"),
    ("less than the threshold", "<"),
)
_UNITS = {
    "Duration": "ms",
    "IteratorAge": "ms",
    "AsyncEventAge": "ms",
    "PostRuntimeExtensionsDuration": "ms",
}


def number(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "unknown"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.4g}"
    return f"{text} {unit}".rstrip()


class AlarmFacts(Frozen):
    """What fired, as the alarm tells it (copied from the AWS event by the handler)."""

    alarm_name: str
    alarm_url: str | None = None
    state: str
    previous_state: str | None = None
    reason: str = ""
    changed_at: datetime | None = None
    description: str | None = None
    kind: str = "metric"
    metric_names: tuple[str, ...] = ()
    expression: str | None = None
    statistic: str | None = None
    comparison: str | None = None
    threshold: float | None = None
    band_lower: float | None = None
    band_upper: float | None = None
    observed_value: float | None = None
    region: str | None = None
    account_id: str | None = None
    child_alarms: tuple[str, ...] = ()

    @property
    def status(self) -> AlertStatus:
        if self.state == "ALARM":
            return AlertStatus.FIRING
        if self.state == "OK":
            return AlertStatus.RESOLVED
        return AlertStatus.NO_DATA

    @property
    def unit(self) -> str:
        return _UNITS.get(self.metric_names[0], "") if len(self.metric_names) == 1 else ""

    @property
    def metric_text(self) -> str:
        if self.kind == "composite":
            children = ", ".join(self.child_alarms) or "its child alarms"
            return f"composite alarm over {children}"
        statistic = f"{self.statistic} " if self.statistic else ""
        if self.expression:
            return f"{self.expression} over {', '.join(self.metric_names) or 'metrics'}"
        return statistic + (", ".join(self.metric_names) or "a metric")

    @property
    def condition_text(self) -> str:
        if self.kind == "composite":
            return "its rule became true" if self.state == "ALARM" else "its rule is false"
        if self.band_upper is not None or self.band_lower is not None:
            band = f"{number(self.band_lower, self.unit)} – {number(self.band_upper, self.unit)}"
            return f"{number(self.observed_value, self.unit)}, expected band {band}"
        symbol = _COMPARISONS.get(self.comparison or "")
        if symbol is None:
            lowered = self.reason.lower()
            symbol = next((s for text, s in _REASON_COMPARISONS if text in lowered), "vs")
        if self.threshold is None:
            return number(self.observed_value, self.unit)
        return (
            f"{number(self.observed_value, self.unit)} (threshold {symbol} "
            f"{number(self.threshold, self.unit)})"
        )


class CauseView(Frozen):
    summary: str
    evidence: tuple[str, ...] = ()
    confidence: str


class OtherSavingView(Frozen):
    """A recommendation that is not a fix for the alert, listed collapsed without buttons."""

    title: str
    savings_text: str
    # The alarm metric the change can make worse, if any ("can worsen Duration").
    worsens: str | None = None

    @property
    def line(self) -> str:
        """mrkdwn: the title is escaped, the savings phrase is tunebot's own."""
        warning = f" — can worsen {escape_mrkdwn(self.worsens)}" if self.worsens else ""
        return f"{escape_mrkdwn(self.title)} ({self.savings_text}){warning}"


class FunctionFindingView(Frozen):
    """One function an alert is about: why, and what to change."""

    function: str
    region: str | None = None
    # Set when the function could not be analysed ("no longer exists", "access denied").
    problem: str | None = None
    # What changed, for cost anomalies ("traffic 3.0× …").
    changes: tuple[str, ...] = ()
    cost_line: str | None = None
    causes: tuple[CauseView, ...] = ()
    unknowns: tuple[str, ...] = ()
    recommendations: tuple[RecommendationView, ...] = ()
    hidden: int = 0
    # Not fixes for this alert (a memory cut on a latency alarm): one collapsed line each.
    other_savings: tuple[OtherSavingView, ...] = ()


def other_saving_view(rec: Recommendation, alarm_metrics: Sequence[str]) -> OtherSavingView:
    return OtherSavingView(
        title=rec.title,
        savings_text=savings_phrase(
            rec.monthly_savings_usd, rec.trade_off.value if rec.trade_off else None
        ),
        worsens=worsened_metric(rec, alarm_metrics),
    )


def _stored(
    rec: Recommendation, tags: dict[str, str], stack: str | None, now: datetime
) -> StoredRecommendation:
    return StoredRecommendation(
        recommendation=rec, function_tags=tags, cloudformation_stack=stack, created_at=now
    )


def finding_view(
    *,
    function: str,
    region: str | None,
    recommendations: Sequence[Recommendation],
    settings: BotSettings,
    tags: dict[str, str],
    cloudformation_stack: str | None,
    now: datetime,
    diagnosis: AlertDiagnosis | None = None,
    changes: Sequence[str] = (),
    cost_line: str | None = None,
    limit: int = 3,
    applied: Sequence[tuple[StoredRecommendation, ChangeRecord, ChangeState]] = (),
    pending: Mapping[str, Sequence[str]] | None = None,
    other_savings: Sequence[Recommendation] = (),
) -> FunctionFindingView:
    """A function's part of an alert card; ``recommendations`` (the fixes) are shown best
    first with their buttons, ``other_savings`` collapsed, one line each without buttons, so
    a change that could worsen the alarm is never offered as its fix.

    A card is rebuilt on every state change of its alert, so what people already did from it
    must survive: ``applied`` changes are shown first in their state (Undo while in force,
    Apply again once undone or set back outside tunebot), and
    recommendations waiting for approvers (``pending``: id -> approvers) keep their count.
    """
    pending = pending or {}
    views = [
        recommendation_view(stored, settings, state=CARD_STATES[state], record=record)
        for stored, record, state in applied
    ]
    done = {view.id for view in views}
    for rec in recommendations:
        if rec.id in done:
            continue
        stored = _stored(rec, tags, cloudformation_stack, now)
        if rec.id in pending:
            views.append(
                recommendation_view(
                    stored, settings, state=RecState.PENDING, approvers=tuple(pending[rec.id])
                )
            )
        else:
            views.append(recommendation_view(stored, settings))
    shown = views[: max(limit, len(applied))]
    causes: tuple[CauseView, ...] = ()
    unknowns: tuple[str, ...] = ()
    if diagnosis is not None:
        causes = tuple(
            CauseView(
                summary=cause.summary,
                evidence=tuple(item.display() for item in cause.evidence),
                confidence=cause.confidence.value,
            )
            for cause in diagnosis.causes
        )
        unknowns = diagnosis.unknowns
    return FunctionFindingView(
        function=function,
        region=region,
        changes=tuple(changes),
        cost_line=cost_line,
        causes=causes,
        unknowns=unknowns,
        recommendations=tuple(shown),
        hidden=len(views) - len(shown),
        other_savings=tuple(
            other_saving_view(rec, diagnosis.metrics if diagnosis is not None else ())
            for rec in other_savings
            if rec.id not in done
        ),
    )


def problem_view(function: str, region: str | None, problem: str) -> FunctionFindingView:
    return FunctionFindingView(function=function, region=region, problem=problem)


class AlarmCardView(Frozen):
    facts: AlarmFacts
    functions: tuple[FunctionFindingView, ...] = ()
    more_functions: int = 0
    # Transitions seen in this thread (1 for the first message).
    transitions: int = 1
    updated_at: datetime | None = None

    @property
    def status(self) -> AlertStatus:
        return self.facts.status

    @property
    def title(self) -> str:
        words = {
            AlertStatus.FIRING: "Alarm",
            AlertStatus.RESOLVED: "Resolved",
            AlertStatus.NO_DATA: "No data",
        }
        return f"{words[self.status]}: {self.facts.alarm_name}"

    @property
    def fallback_text(self) -> str:
        names = ", ".join(f.function for f in self.functions) or "Lambda"
        return f"{self.title} ({names})"


def alarm_card_view(
    facts: AlarmFacts,
    findings: Sequence[FunctionFindingView],
    *,
    transitions: int = 1,
    updated_at: datetime | None = None,
) -> AlarmCardView:
    shown: list[FunctionFindingView] = []
    budget = MAX_RECOMMENDATIONS_PER_CARD
    for finding in findings[:MAX_FUNCTIONS_PER_CARD]:
        keep = finding.recommendations[: max(0, budget)]
        budget -= len(keep)
        hidden = finding.hidden + len(finding.recommendations) - len(keep)
        shown.append(finding.model_copy(update={"recommendations": keep, "hidden": hidden}))
    return AlarmCardView(
        facts=facts,
        functions=tuple(shown),
        more_functions=max(0, len(findings) - MAX_FUNCTIONS_PER_CARD),
        transitions=transitions,
        updated_at=updated_at,
    )


class CostCardView(Frozen):
    anomaly_id: str
    details_link: str | None = None
    service: str
    total_impact: str
    impact_percentage: str | None = None
    actual: str
    expected: str
    window_text: str
    account: str | None = None
    root_causes: tuple[str, ...] = ()
    # Lambda attribution: the functions that grew most, with their fixes.
    functions: tuple[FunctionFindingView, ...] = ()
    attribution_note: str | None = None
    # How much of the impact the attribution explains and where the rest may lie, in mrkdwn
    # (see ``explanation_lines``).
    explained: tuple[str, ...] = ()
    updates: int = 1
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"Cost anomaly: {self.total_impact} above expected on {self.service}"

    @property
    def fallback_text(self) -> str:
        return self.title


def explanation_lines(explanation: AnomalyExplanation) -> tuple[str, ...]:
    """The cost card's account of its own attribution, in mrkdwn: how much of the impact the
    functions' compute and requests explain, then where the rest may lie."""
    explained = money(explanation.explained_usd)
    compared = f"{explanation.functions_compared} function" + (
        "" if explanation.functions_compared == 1 else "s"
    )
    what = f"the compute and requests of the {compared} tunebot compared"
    if explanation.impact_usd is None:
        lines = [f"Attribution explains *{explained}* ({what}); the anomaly's impact is unknown."]
    elif explanation.fully_explained:
        lines = [f"Attribution explains all of the *{money(explanation.impact_usd)}* ({what})."]
    else:
        share = explanation.explained_share or 0.0
        share_text = "under 1%" if 0 < share < 0.01 else f"{share:.0%}"
        lines = [
            f"Attribution explains *{explained} of the {money(explanation.impact_usd)}* "
            f"({share_text}): {what}"
            + (
                f", {money(explanation.shown_usd)} of it from the functions below."
                if explanation.shown_usd >= 0.005
                else "."
            ),
            f"The other *{money(explanation.unexplained_usd)}* may lie in:",
        ]
    for item in explanation.elsewhere:
        amount = f": {money(item.amount_usd)}" if item.amount_usd is not None else ""
        lines.append(f"• {escape_mrkdwn(item.place)}{amount} ({escape_mrkdwn(item.why)})")
    return tuple(lines)


class ChangeEffectView(Frozen):
    description: str
    applied_by: str
    applied_at: datetime
    effect: str

    @property
    def when(self) -> str:
        return slack_date(self.applied_at)


class DigestView(Frozen):
    period_text: str
    functions: int
    total_savings: str
    top: tuple[RecommendationView, ...] = ()
    more_savings: int = 0
    risks: tuple[str, ...] = ()
    changes: tuple[ChangeEffectView, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def all_good(self) -> bool:
        return not (self.top or self.risks or self.changes or self.errors)

    @property
    def fallback_text(self) -> str:
        if self.all_good:
            return f"tunebot weekly digest: all good across {self.functions} functions"
        return f"tunebot weekly digest: {self.total_savings}/mo to save, {len(self.risks)} risks"


class SlackMessage(Frozen):
    text: str
    blocks: tuple[dict[str, Any], ...]


def render_alarm_card(view: AlarmCardView) -> SlackMessage:
    blocks = render_blocks("alert_alarm.j2", card=view, slack_date=slack_date)
    return SlackMessage(text=escape_mrkdwn(view.fallback_text), blocks=tuple(blocks))


def render_cost_card(view: CostCardView) -> SlackMessage:
    blocks = render_blocks("alert_cost.j2", card=view, slack_date=slack_date)
    return SlackMessage(text=escape_mrkdwn(view.fallback_text), blocks=tuple(blocks))


def render_digest(view: DigestView) -> SlackMessage:
    blocks = render_blocks("digest_weekly.j2", digest=view)
    return SlackMessage(text=escape_mrkdwn(view.fallback_text), blocks=tuple(blocks))


def render_reply(icon: str, mrkdwn: str) -> SlackMessage:
    """A thread reply. ``mrkdwn`` is built by tunebot from states, numbers and Slack date
    tokens, never from names in an event, so it is sent as is (escaping would break dates)."""
    blocks = render_blocks("alert_reply.j2", icon=icon, text=mrkdwn)
    return SlackMessage(text=mrkdwn, blocks=tuple(blocks))


class SlackPoster:
    """chat.postMessage / chat.update with Slack's failures sorted into retry or not."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = self.client.api_call(method, json=kwargs)
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error", "")) if error.response else ""
            if status == 429 or status >= 500 or code in TRANSIENT_SLACK_ERRORS:
                raise SlackTransientError(
                    f"Slack answered {method} with {status} {code}".rstrip()
                ) from error
            raise SlackDeliveryError(f"Slack refused {method}: {code or status}.") from error
        except (SlackClientError, OSError) as error:
            raise SlackTransientError(f"Could not reach Slack for {method}: {error}") from error
        return dict(response.data) if isinstance(response.data, dict) else {}

    def post(self, channel: str, message: SlackMessage, *, thread_ts: str | None = None) -> str:
        args: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": list(message.blocks),
            "unfurl_links": False,
        }
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        return str(self._call("chat.postMessage", **args).get("ts", ""))

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        self._call(
            "chat.update", channel=channel, ts=ts, text=message.text, blocks=list(message.blocks)
        )


class ThreadRecord(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def ts(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


class ThreadClaim(Protocol):
    @property
    def created(self) -> bool: ...
    @property
    def thread(self) -> ThreadRecord: ...


class ThreadStore(Protocol):
    """The alert-thread part of the state store (``aws.store.StateStore`` fits it)."""

    def get_alert_thread(self, key: str) -> ThreadRecord | None: ...

    def create_alert_thread(
        self, key: str, state: str, *, channel: str | None = None, ts: str | None = None
    ) -> ThreadClaim: ...

    def update_alert_thread(
        self,
        key: str,
        *,
        state: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
    ) -> ThreadRecord: ...


class Published(StrEnum):
    POSTED = "posted"
    UPDATED = "updated"


class PublishResult(Frozen):
    outcome: Published
    channel: str
    ts: str
    # How many events this thread has seen, including this one.
    count: int


def _state_and_count(stored: str | None) -> tuple[str, int]:
    """Thread records keep "<state>#<count>" so repeats can be counted on the card."""
    if not stored:
        return "", 0
    state, _, count = stored.partition("#")
    return state, int(count) if count.isdigit() else 1


UNPOSTED = "unposted"


class AlertPublisher:
    """One Slack thread per alert key: post once, then update in place and reply in thread."""

    def __init__(self, store: ThreadStore, poster: SlackPoster) -> None:
        self.store = store
        self.poster = poster

    def _post_first(self, key: str, channel: str, card: SlackMessage) -> str:
        """Post the thread's first message; when Slack fails, mark the thread so that the
        retry posts at once instead of waiting for a poster that is gone."""
        try:
            return self.poster.post(channel, card)
        except (SlackTransientError, SlackDeliveryError):
            self.store.update_alert_thread(key, state=f"{UNPOSTED}#0")
            raise

    def existing(self, key: str) -> tuple[ThreadRecord | None, int]:
        thread = self.store.get_alert_thread(key)
        return thread, _state_and_count(thread.state if thread else None)[1]

    def publish(
        self,
        key: str,
        *,
        state: str,
        channel: str,
        card: SlackMessage,
        reply: SlackMessage | None,
        now: datetime,
    ) -> PublishResult:
        """Post ``card`` as a new thread, or update the thread's card and post ``reply`` in it."""
        thread = self.store.get_alert_thread(key)
        if thread is None:
            claim = self.store.create_alert_thread(key, f"{state}#1", channel=channel)
            if claim.created:
                ts = self._post_first(key, channel, card)
                self.store.update_alert_thread(key, channel=channel, ts=ts)
                return PublishResult(outcome=Published.POSTED, channel=channel, ts=ts, count=1)
            thread = claim.thread
        stored_state, count = _state_and_count(thread.state)
        if not thread.ts or not thread.channel:
            unposted = stored_state == UNPOSTED
            if not unposted and now - thread.created_at < ORPHANED_THREAD_AFTER:
                raise AlertInProgressError(f"The first message for {key} is being posted.")
            ts = self._post_first(key, channel, card)
            count = 0 if unposted else count
            self.store.update_alert_thread(
                key, state=f"{state}#{count + 1}", channel=channel, ts=ts
            )
            return PublishResult(outcome=Published.POSTED, channel=channel, ts=ts, count=count + 1)
        self.poster.update(thread.channel, thread.ts, card)
        if reply is not None:
            self.poster.post(thread.channel, reply, thread_ts=thread.ts)
        self.store.update_alert_thread(key, state=f"{state}#{count + 1}")
        return PublishResult(
            outcome=Published.UPDATED, channel=thread.channel, ts=thread.ts, count=count + 1
        )

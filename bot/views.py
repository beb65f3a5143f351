"""Typed view models: everything a template shows, already decided and formatted.

Templates only lay these out; text is escaped and clipped in the templates (``esc``, ``clip``)
so a function name can never inject mrkdwn links or break Slack's limits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from bot.rendering import escape_mrkdwn
from bot.settings import ApplyMode, BotSettings
from bot.snippets import TemplateSnippet, snippet_for
from recommendations.changes import ArchitectureChange, MemoryChange
from recommendations.pricing import monthly_cost
from recommendations.recommendation import Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot
from service.api import ChangeRecord, ChangeState, PendingApproval, StoredRecommendation

# A message may hold 50 blocks; a recommendation takes up to 5 (with its state line after a
# click) and the card's frame 7: 8 × 5 + 7 = 47.
CARD_RECOMMENDATIONS = 8
LIST_PAGE_SIZE = 20
HOME_SECTION_SIZE = 8
SCAN_SIZE = 12
# The scan card's "Show all" lists this many of the top savings, 20 to a page.
SCAN_LIST_SIZE = 100


def money(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "unknown"
    if value < 0:
        return "-" + money(-value)
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def savings_phrase(saving: float | None, trade_off: str | None = None) -> str:
    """What a recommendation does to the bill, in mrkdwn: "Saves *$12.00/mo*", "Costs *$16.43/mo*
    more (buys speed)", "No change in cost", or "Saving not priced" (never "Saves unknown")."""
    if saving is None or math.isnan(saving):
        return "Saving not priced"
    if round(saving, 2) == 0:
        return "No change in cost"
    if saving > 0:
        return f"Saves *{money(saving)}/mo*"
    buys = f" (buys {trade_off})" if trade_off else ""
    return f"Costs *{money(-saving)}/mo* more{buys}"


def savings_range_phrase(low: float | None, high: float | None) -> str | None:
    """ "between $3.00 and $9.10 saved", or with costs "from $5.72 more to $0.00 saved"."""
    if low is None or high is None or round(low, 2) == round(high, 2):
        return None

    def end(value: float) -> str:
        return f"{money(-value)} more" if value < 0 else f"{money(value)} saved"

    if low >= 0:
        return f"between {money(low)} and {money(high)} saved"
    return f"from {end(low)} to {end(high)}"


def slack_date(when: datetime) -> str:
    """Slack's date token renders in the reader's time zone; the fallback is UTC."""
    epoch = int(when.timestamp())
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


_SLACK_USER = re.compile(r"^(?:slack:)?([UW][A-Z0-9]{2,})$")


def mention(actor: str) -> str:
    """A Slack mention for a Slack user (``U…`` or ``slack:U…``); other actors (``cli:alice``)
    as escaped text."""
    match = _SLACK_USER.match(actor)
    if match:
        return f"<@{match.group(1)}>"
    return escape_mrkdwn(actor)


def benchmarkable(rec: Recommendation) -> bool:
    """A benchmark measures memory sizes (on both architectures for an architecture change):
    it can check a memory or architecture change, and has nothing to say about the others."""
    return isinstance(rec.change, MemoryChange | ArchitectureChange)


class RecState(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    APPLIED = "applied"
    UNDONE = "undone"
    # Applied with tunebot, then set back outside it (a deployment, the console).
    REVERTED = "reverted"
    # Applied with tunebot, then changed again outside it: neither Apply nor Undo fits.
    DRIFTED = "drifted"
    DISMISSED = "dismissed"


# A change's state (service.lifecycle) as a card shows it.
CARD_STATES = {
    ChangeState.APPLIED: RecState.APPLIED,
    ChangeState.UNDONE: RecState.UNDONE,
    ChangeState.REVERTED: RecState.REVERTED,
    ChangeState.DRIFTED: RecState.DRIFTED,
}


class RecommendationView(Frozen):
    id: str
    function: str
    title: str
    rationale: str
    severity: str
    category: str
    confidence: str
    risk: str
    savings: str
    # "Saves *$X/mo*" / "Costs *$X/mo* more (buys speed)" / "Saving not priced".
    savings_text: str
    savings_range: str | None = None
    trade_off: str | None = None
    evidence: tuple[str, ...] = ()
    change: str | None = None
    # What Undo sets (the inverse change), for its confirm dialog.
    undo_change: str | None = None
    # Whether Benchmark first can measure this change (memory sizes and architectures).
    can_benchmark: bool = False
    # Whether the Apply button is shown (a change exists, the mode and managed tag allow it).
    can_apply: bool = False
    apply_label: str = "Apply"
    # The verb of the Apply button's confirm dialog: "Apply", or "Approve" while approvals count.
    apply_verb: str = "Apply"
    not_applicable_reason: str | None = None
    state: RecState = RecState.OPEN
    # Who did what; mentions are built by the view, never from user text.
    state_text: str = ""
    change_id: str | None = None


def recommendation_view(
    stored: StoredRecommendation,
    settings: BotSettings,
    *,
    state: RecState = RecState.OPEN,
    approvers: Sequence[str] = (),
    record: ChangeRecord | None = None,
    dismissed_by: str | None = None,
    dismissed_until: datetime | None = None,
) -> RecommendationView:
    rec = stored.recommendation
    required = settings.required_approvals(stored.function_tags)
    reason: str | None = None
    if rec.change is None:
        reason = None
    elif settings.apply_mode is ApplyMode.RECOMMEND_ONLY:
        reason = "tunebot runs in recommend-only mode: apply this change yourself."
    elif not settings.is_managed(stored.function_tags):
        reason = f"tunebot may not change this function: tag it {settings.managed_tag} to allow it."
    can_apply = rec.change is not None and reason is None
    label = "Apply again" if state in (RecState.UNDONE, RecState.REVERTED) else "Apply"
    if can_apply and required > 1:
        label = f"Approve ({len(approvers)}/{required})"
    state_text = ""
    if state is RecState.PENDING:
        names = ", ".join(mention(user) for user in approvers)
        state_text = f":hourglass: Approved by {names} ({len(approvers)} of {required})"
    elif state is RecState.APPLIED and record is not None:
        others = [user for user in record.approver_users if user != record.applied_by]
        names = ", ".join(mention(user) for user in record.approver_users)
        approved = f" (approved by {names})" if others else ""
        state_text = (
            f":white_check_mark: Applied by {mention(record.applied_by)} "
            f"{slack_date(record.applied_at)}{approved}"
        )
    elif state is RecState.UNDONE and record is not None:
        when = slack_date(record.undone_at) if record.undone_at else ""
        who = mention(record.undone_by_user or "someone")
        state_text = f":leftwards_arrow_with_hook: Undone by {who} {when}".rstrip()
    elif state is RecState.REVERTED and record is not None:
        state_text = (
            f":warning: Applied by {mention(record.applied_by)} {slack_date(record.applied_at)}, "
            "then set back outside tunebot: the function has its old setting again."
        )
    elif state is RecState.DRIFTED and record is not None:
        state_text = (
            f":warning: Applied by {mention(record.applied_by)} {slack_date(record.applied_at)}, "
            "then changed again outside tunebot: run /tune for a fresh recommendation."
        )
    elif state is RecState.DISMISSED:
        until = f" until {slack_date(dismissed_until)}" if dismissed_until else ""
        state_text = f":zzz: Dismissed by {mention(dismissed_by or 'someone')}{until}"
    low, high = rec.monthly_savings_low_usd, rec.monthly_savings_high_usd
    return RecommendationView(
        id=rec.id,
        function=rec.function,
        title=rec.title,
        rationale=rec.rationale,
        severity=rec.severity.value,
        category=rec.category.value,
        confidence=rec.confidence.value,
        risk=rec.risk.value,
        savings=money(rec.monthly_savings_usd),
        savings_text=savings_phrase(
            rec.monthly_savings_usd, rec.trade_off.value if rec.trade_off else None
        ),
        savings_range=savings_range_phrase(low, high),
        trade_off=rec.trade_off.value if rec.trade_off else None,
        evidence=tuple(item.display() for item in rec.evidence),
        change=rec.change.describe() if rec.change else None,
        undo_change=rec.change.inverse().describe() if rec.change else None,
        can_benchmark=benchmarkable(rec),
        can_apply=can_apply,
        apply_label=label,
        apply_verb="Approve" if label.startswith("Approve") else "Apply",
        not_applicable_reason=reason,
        state=state,
        state_text=state_text,
        change_id=record.change_id if record else None,
    )


SUMMARY_BLOCK = "card:summary"


class CardSummary(Frozen):
    """The card's summary: the function, its "monthly cost now → after" and the savings of its
    open recommendations."""

    function: str
    region: str
    account_id: str
    cost_now: str
    cost_after: str
    savings: str
    # Open recommendations (not applied, undone or dismissed), the hidden ones included.
    count: int
    # The recommendations behind "Show all" stay open on the card; their count and savings
    # (in cents) ride in the block id, so a click can recompute the summary without them.
    block_id: str = SUMMARY_BLOCK


def card_summary(
    function: str,
    region: str,
    account_id: str,
    cost_usd: float | None,
    *,
    open_savings: float,
    applied_savings: float,
    count: int,
    hidden: tuple[int, int] = (0, 0),
) -> CardSummary:
    """``cost_usd`` is the function's monthly cost when the card was made; applied changes have
    lowered it since, and the open recommendations (with ``hidden``: count, savings in cents)
    would lower it further."""
    hidden_count, hidden_cents = hidden
    open_total = open_savings + hidden_cents / 100
    now = max(0.0, cost_usd - applied_savings) if cost_usd is not None else None
    after = max(0.0, now - open_total) if now is not None else None
    block_id = SUMMARY_BLOCK
    if hidden_count:
        block_id = f"{SUMMARY_BLOCK}:{hidden_count}:{hidden_cents}"
    return CardSummary(
        function=function,
        region=region,
        account_id=account_id,
        cost_now=money(now) if now is not None else "unknown",
        cost_after=money(after) if after is not None else "unknown",
        savings=money(open_total),
        count=count + hidden_count,
        block_id=block_id,
    )


def hidden_on_card(summary_block_id: str) -> tuple[int, int]:
    """(count, savings in cents) of a card's hidden recommendations, from its summary block."""
    parts = summary_block_id.split(":")
    if len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
        return int(parts[2]), int(parts[3])
    return 0, 0


def recommendation_states(blocks: Sequence[Mapping[str, object]]) -> dict[str, RecState]:
    """Each recommendation's state as a card shows it (its section's block id says it)."""
    states: dict[str, RecState] = {}
    for block in blocks:
        rec_id, section, rest = str(block.get("block_id", "")).partition(":section")
        if section and rec_id and rest in ("", *(f":{state.value}" for state in RecState)):
            states[rec_id] = RecState(rest[1:]) if rest else RecState.OPEN
    return states


class CardView(Frozen):
    function: str
    function_arn: str
    region: str
    account_id: str
    summary: CardSummary
    savings: str
    requested_by: str | None = None
    drift_stack: str | None = None
    recommendations: tuple[RecommendationView, ...] = ()
    hidden: int = 0
    total: int = 0
    footer: str = ""
    # Why log figures are missing, when the function's system log level hides REPORT lines.
    report_lines_note: str | None = None


def report_lines_note(snapshot: FunctionSnapshot) -> str | None:
    """REPORT lines are INFO system events: at WARN or above Lambda writes none, so memory
    used, cold starts and timeouts are unknown and the rules that need them cannot tell."""
    if snapshot.writes_report_lines:
        return None
    level = snapshot.system_log_level.value if snapshot.system_log_level else "WARN"
    return (
        f"REPORT lines are off (system log level {level}), so memory used, cold starts and "
        "timeouts are unknown; Benchmark first measures a copy, which logs them."
    )


def card_view(
    snapshot: FunctionSnapshot,
    stored: Sequence[StoredRecommendation],
    settings: BotSettings,
    *,
    requested_by: str | None,
    now: datetime,
) -> CardView:
    cost = monthly_cost(snapshot, at=now)

    def saving(item: StoredRecommendation) -> float:
        return max(0.0, item.recommendation.monthly_savings_usd or 0.0)

    savings = sum(saving(s) for s in stored)
    shown = stored[:CARD_RECOMMENDATIONS]
    hidden = stored[CARD_RECOMMENDATIONS:]
    footer = f"Apply mode: {settings.apply_mode.value}"
    if settings.apply_mode is not ApplyMode.RECOMMEND_ONLY:
        footer += f" · changes need {settings.required_approvals(snapshot.tags)} approver(s)"
    return CardView(
        function=snapshot.name,
        function_arn=snapshot.arn,
        region=snapshot.region,
        account_id=snapshot.account_id,
        summary=card_summary(
            snapshot.name,
            snapshot.region,
            snapshot.account_id,
            cost.total_usd if cost else None,
            open_savings=sum(saving(s) for s in shown),
            applied_savings=0.0,
            count=len(shown),
            hidden=(len(hidden), round(sum(saving(s) for s in hidden) * 100)),
        ),
        savings=money(savings),
        requested_by=requested_by,
        drift_stack=snapshot.cloudformation_stack,
        recommendations=tuple(recommendation_view(s, settings) for s in shown),
        hidden=len(stored) - len(shown),
        total=len(stored),
        footer=footer,
        report_lines_note=report_lines_note(snapshot),
    )


class ListPageView(Frozen):
    """One page of a function's recommendations in a modal (the card's "show all")."""

    function: str
    function_arn: str
    items: tuple[RecommendationView, ...]
    page: int
    pages: int
    total: int


def list_page_view(
    function: str,
    function_arn: str,
    stored: Sequence[StoredRecommendation],
    settings: BotSettings,
    page: int,
) -> ListPageView:
    pages = max(1, math.ceil(len(stored) / LIST_PAGE_SIZE))
    page = min(max(0, page), pages - 1)
    chunk = stored[page * LIST_PAGE_SIZE : (page + 1) * LIST_PAGE_SIZE]
    return ListPageView(
        function=function,
        function_arn=function_arn,
        items=tuple(recommendation_view(s, settings) for s in chunk),
        page=page,
        pages=pages,
        total=len(stored),
    )


class DetailsView(Frozen):
    recommendation: RecommendationView
    notes: tuple[str, ...] = ()
    cost_before: str
    cost_after: str
    snippet: TemplateSnippet | None = None
    drift_stack: str | None = None


def details_view(stored: StoredRecommendation, settings: BotSettings) -> DetailsView:
    rec = stored.recommendation
    return DetailsView(
        recommendation=recommendation_view(stored, settings),
        notes=rec.notes,
        cost_before=money(rec.monthly_cost_before_usd),
        cost_after=money(rec.monthly_cost_after_usd),
        snippet=snippet_for(rec.change) if rec.change is not None else None,
        drift_stack=stored.cloudformation_stack,
    )


class ScanLine(Frozen):
    id: str
    function: str
    title: str
    savings: str
    savings_text: str
    confidence: str


class ScanView(Frozen):
    functions: int
    total_savings: str
    lines: tuple[ScanLine, ...]
    hidden: int
    errors: tuple[str, ...] = ()


def scan_view(
    recommendations: Sequence[Recommendation],
    functions: int,
    errors: Mapping[str, str],
    *,
    shown: int = SCAN_SIZE,
) -> ScanView:
    ranked = sorted(recommendations, key=lambda r: -(r.monthly_savings_usd or 0.0))
    first = ranked[:shown]
    return ScanView(
        functions=functions,
        total_savings=money(sum(max(0.0, r.monthly_savings_usd or 0.0) for r in ranked)),
        lines=tuple(
            ScanLine(
                id=r.id,
                function=r.function,
                title=r.title,
                savings=money(r.monthly_savings_usd),
                savings_text=savings_phrase(
                    r.monthly_savings_usd, r.trade_off.value if r.trade_off else None
                ),
                confidence=r.confidence.value,
            )
            for r in first
        ),
        hidden=len(ranked) - len(first),
        errors=tuple(f"{name}: {reason}" for name, reason in sorted(errors.items()))[:5],
    )


class SavingsPageView(Frozen):
    """One page of the fleet's top savings in a modal (the scan card's "Show all")."""

    lines: tuple[ScanLine, ...]
    page: int
    pages: int
    # Recommendations listed over all pages; whether more are known (for `tunebot scan`).
    listed: int
    more: bool
    total_savings: str


def savings_page_view(recommendations: Sequence[Recommendation], page: int) -> SavingsPageView:
    ranked = scan_view(recommendations, 0, {}, shown=SCAN_LIST_SIZE)
    pages = max(1, math.ceil(len(ranked.lines) / LIST_PAGE_SIZE))
    page = min(max(0, page), pages - 1)
    return SavingsPageView(
        lines=ranked.lines[page * LIST_PAGE_SIZE : (page + 1) * LIST_PAGE_SIZE],
        page=page,
        pages=pages,
        listed=len(ranked.lines),
        more=ranked.hidden > 0,
        total_savings=ranked.total_savings,
    )


class HomeChange(Frozen):
    change_id: str
    description: str
    status: str
    who: str
    when: str


class HomePending(Frozen):
    id: str
    function: str
    title: str
    approvals: str


class HomeView(Frozen):
    user_id: str
    top: tuple[ScanLine, ...]
    pending: tuple[HomePending, ...]
    changes: tuple[HomeChange, ...]
    apply_mode: str


def home_view(
    user_id: str,
    top: Sequence[Recommendation],
    pending: Sequence[PendingApproval],
    changes: Sequence[ChangeRecord],
    settings: BotSettings,
) -> HomeView:
    return HomeView(
        user_id=user_id,
        top=scan_view(top[:HOME_SECTION_SIZE], 0, {}).lines,
        pending=tuple(
            HomePending(
                id=item.stored.recommendation.id,
                function=item.stored.recommendation.function,
                title=item.stored.recommendation.title,
                approvals=(
                    f"{len(item.approvers)} of "
                    f"{settings.required_approvals(item.stored.function_tags)}"
                ),
            )
            for item in pending[:HOME_SECTION_SIZE]
        ),
        changes=tuple(
            HomeChange(
                change_id=record.change_id,
                description=record.description,
                status=record.status.value,
                who=mention(record.undone_by_user or record.applied_by),
                when=slack_date(record.undone_at or record.applied_at),
            )
            for record in changes[:HOME_SECTION_SIZE]
        ),
        apply_mode=settings.apply_mode.value,
    )


class BenchmarkView(Frozen):
    function: str
    summary: str
    invocations: int
    tuning_cost: str
    # The table's lines (bot.benchmark_card: sorted by memory, the winner starred).
    results: tuple[str, ...]
    recommendation: RecommendationView | None = None
    # Cold starts, traffic and how sure the result is, one plain sentence each.
    notes: tuple[str, ...] = ()
    # The chart uploaded with files.uploadV2, shown as an image block.
    chart_file_id: str | None = None
    chart_alt_text: str = ""

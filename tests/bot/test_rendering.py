"""Every message and modal, rendered with representative and extreme data, is valid Block Kit.

Each block is parsed with slack_sdk's models (``Block.parse`` / ``View``) and validated, and
Slack's limits that slack_sdk does not check are checked here by walking the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.policy import Policy, TagRule
from bot.rendering import clip, escape_mrkdwn, render_blocks, render_view
from bot.settings import ApplyMode, BotSettings
from bot.views import (
    BenchmarkView,
    RecState,
    card_summary,
    card_view,
    details_view,
    hidden_on_card,
    home_view,
    list_page_view,
    recommendation_states,
    recommendation_view,
    savings_page_view,
    scan_view,
)
from fakes.services import NOW, memory_recommendation, snapshot
from recommendations.changes import (
    AsyncFailureDestinationChange,
    AsyncSettings,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    MemoryChange,
)
from recommendations.recommendation import (
    Category,
    Confidence,
    Evidence,
    Recommendation,
    Severity,
    TradeOff,
)
from recommendations.snapshot import LogFormat, LogLevel
from service.api import (
    ChangeRecord,
    ChangeStatus,
    PendingApproval,
    StoredRecommendation,
)

SETTINGS = BotSettings(
    policy=Policy(appliers=("UALICE1",), rules=(TagRule(tag="env=prod", approvers=2),))
)
LONG = "ünïcødé-🚀-" + "x" * 130  # 140 characters, wider than any Lambda name
HUGE = 123_456_789_012_345.678
NASTY = 'a <@U123> & <!channel> "quoted" \\ back\\slash *bold* `code` \u202eRTL\u202c\n' * 60


# ---- the limit checker ---------------------------------------------------------------------


def _text_of(obj: Any) -> str:
    return obj["text"] if isinstance(obj, dict) else ""


def check_limits(node: Any, path: str = "") -> None:
    """Slack's documented limits that slack_sdk's validators leave out."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            check_limits(item, f"{path}[{index}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "button":
        assert len(_text_of(node["text"])) <= 75, path
        assert len(node.get("value", "")) <= 2000, path
        assert len(node.get("action_id", "")) <= 255, path
    if kind == "header":
        assert len(_text_of(node["text"])) <= 150, path
    if kind == "section":
        if "text" in node:
            assert len(_text_of(node["text"])) <= 3000, path
        assert len(node.get("fields", [])) <= 10, path
        for field in node.get("fields", []):
            assert len(field["text"]) <= 2000, path
    if kind == "context":
        assert 1 <= len(node["elements"]) <= 10, path
        for element in node["elements"]:
            assert len(element.get("text", "")) <= 3000, path
    if kind == "actions":
        assert 1 <= len(node["elements"]) <= 25, path
    if "confirm" in node and isinstance(node["confirm"], dict) and "title" in node["confirm"]:
        confirm = node["confirm"]
        assert len(confirm["title"]["text"]) <= 100, path
        assert len(confirm["text"]["text"]) <= 300, path
        assert len(confirm["confirm"]["text"]) <= 30, path
    if "block_id" in node:
        assert len(node["block_id"]) <= 255, path
    for key, value in node.items():
        check_limits(value, f"{path}.{key}")


def assert_valid_message(blocks: list[dict[str, Any]]) -> None:
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        assert parsed.to_dict()["type"] == block["type"]
    check_limits(blocks)


def assert_valid_view(view: dict[str, Any], kind: str) -> None:
    parsed = View(**view)
    parsed.validate_json()
    assert view["type"] == kind
    assert len(view["blocks"]) <= 100
    assert len(view.get("title", {}).get("text", "")) <= 24
    for block in view["blocks"]:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    check_limits(view)


# ---- data ----------------------------------------------------------------------------------


def stored(rec: Recommendation, **tags: str) -> StoredRecommendation:
    return StoredRecommendation(
        recommendation=rec,
        function_tags={"tunebot:managed": "true", **tags},
        cloudformation_stack="stack-" + LONG,
        created_at=NOW,
    )


def representative() -> list[StoredRecommendation]:
    fn = snapshot()
    return [stored(memory_recommendation(fn))]


def extreme(count: int = 55) -> list[StoredRecommendation]:
    fn = snapshot(
        LONG[:64]
        .replace("🚀", "x")
        .replace("ü", "u")
        .replace("ï", "i")
        .replace("ø", "o")
        .replace("é", "e")
    )
    recs = []
    for i in range(count):
        recs.append(
            stored(
                memory_recommendation(
                    fn,
                    after=128 + i,
                    title=NASTY[:200] + str(i),
                    rationale=NASTY,
                    evidence=tuple(
                        Evidence(label=f"{NASTY[:80]} {j}", value=HUGE, unit="GB-s")
                        for j in range(300)
                    ),
                    notes=tuple(NASTY for _ in range(30)),
                    monthly_savings_usd=HUGE,
                    monthly_savings_low_usd=-HUGE,
                    monthly_savings_high_usd=HUGE * 2,
                    monthly_cost_before_usd=HUGE,
                    trade_off=TradeOff.SPEED,
                ),
                env="prod",
            )
        )
    return recs


def esm_and_async() -> list[StoredRecommendation]:
    fn = snapshot("queue-worker")
    esm = Recommendation(
        function=fn.name,
        function_arn=fn.arn,
        region=fn.region,
        account_id=fn.account_id,
        rule_id="SQS-001",
        category=Category.BATCHING,
        severity=Severity.LOW,
        title="Batch more messages per invocation",
        rationale="Each invocation handles one message.",
        confidence=Confidence.MEDIUM,
        change=EventSourceMappingChange(
            function_name=fn.name,
            mapping_uuid="uuid-1",
            source_arn="arn:aws:sqs:us-east-1:123456789012:" + "q" * 80,
            before=EventSourceMappingSettings(batch_size=1),
            after=EventSourceMappingSettings(
                batch_size=100, maximum_batching_window_s=5, report_batch_item_failures=True
            ),
        ),
    )
    async_rec = esm.model_copy(
        update={
            "rule_id": "ASYNC-001",
            "change": AsyncFailureDestinationChange(
                function_name=fn.name,
                before=AsyncSettings(),
                after=AsyncSettings(on_failure_destination="arn:aws:sqs:us-east-1:1:dlq"),
                create_queue_name="queue-worker-failures",
            ),
        }
    )
    advice = esm.model_copy(update={"rule_id": "RT-001", "change": None})
    return [stored(esm), stored(async_rec), stored(advice)]


DATASETS: dict[str, Callable[[], list[StoredRecommendation]]] = {
    "none": list,
    "representative": representative,
    "extreme": extreme,
    "other_changes": esm_and_async,
}


def record(description: str = "Set memory", **extra: Any) -> ChangeRecord:
    fields: dict[str, Any] = {
        "change_id": "chg-" + "9" * 40,
        "recommendation_id": "rec-1",
        "function_name": LONG,
        "change": MemoryChange(function_name=LONG, before=1024, after=512),
        "description": description,
        "actor": "slack:UALICE1",
        "applied_at": NOW,
        "approvers": tuple(f"slack:U{i:08d}" for i in range(12)),
    }
    fields.update(extra)
    return ChangeRecord(**fields)


# ---- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("mode", list(ApplyMode))
def test_card(dataset: str, mode: ApplyMode) -> None:
    items = DATASETS[dataset]()
    fn = snapshot(cloudformation_stack="stack-" + LONG, tags={"env": "prod"})
    settings = SETTINGS.model_copy(update={"apply_mode": mode})
    blocks = render_blocks(
        "card.j2", card=card_view(fn, items, settings, requested_by="UALICE1", now=NOW)
    )
    assert_valid_message(blocks)
    text = json.dumps(blocks)
    if len(items) > 10:
        assert f"Show all {len(items)} recommendations" in text
    if not items:
        assert "Nothing to change" in text
    assert "<!channel>" not in text and "<@U123>" not in text


@pytest.mark.parametrize("state", list(RecState))
@pytest.mark.parametrize("dataset", ["representative", "extreme", "other_changes"])
def test_recommendation_in_every_state(state: RecState, dataset: str) -> None:
    for item in DATASETS[dataset]():
        view = recommendation_view(
            item,
            SETTINGS,
            state=state,
            approvers=tuple(f"U{i:08d}" for i in range(12)),
            record=record(undone_by="slack:UBOB1", undone_at=NOW, status=ChangeStatus.UNDONE),
            dismissed_by="UBOB1",
            dismissed_until=NOW,
        )
        blocks = render_blocks("recommendation.j2", rec=view)
        assert_valid_message(blocks)
        assert all(block["block_id"].startswith(item.recommendation.id + ":") for block in blocks)


def test_card_blocks_are_exactly_the_expected_shape() -> None:
    blocks = render_blocks(
        "card.j2",
        card=card_view(snapshot(), representative(), SETTINGS, requested_by="UALICE1", now=NOW),
    )
    assert [block["type"] for block in blocks] == [
        "header",
        "section",
        "divider",
        "section",
        "context",
        "actions",
        "context",
    ]
    summary = blocks[1]["fields"]
    assert summary[2]["text"] == "*Monthly cost now → after*\n$19.26 → $9.26"
    section = blocks[3]["text"]["text"]
    assert section.startswith("*Lower memory to 512 MB*\nSaves *$10.00/mo* · confidence high")
    actions = [element["action_id"] for element in blocks[5]["elements"]]
    assert actions == ["tune_apply", "tune_benchmark", "tune_details", "tune_dismiss"]


@pytest.mark.parametrize("count", [0, 1, 12, 500])
def test_scan(count: int) -> None:
    recs = [item.recommendation for item in extreme(count)] if count else []
    blocks = render_blocks("scan.j2", scan=scan_view(recs, count * 3, {LONG: NASTY}), list_size=100)
    assert_valid_message(blocks)
    more = [b for b in blocks if b.get("block_id") == "scan:more"]
    if count > 12:
        (block,) = more
        label = f"Show all {count}" if count <= 100 else "Show the top 100"
        assert block["elements"][0]["text"]["text"] == label
        assert block["elements"][0]["action_id"] == "tune_savings_all"
    else:
        assert more == []


@pytest.mark.parametrize(("count", "page"), [(0, 0), (1, 0), (25, 1), (500, 4), (500, 9)])
def test_savings_modal_pages(count: int, page: int) -> None:
    recs = [item.recommendation for item in extreme(count)] if count else []
    view = savings_page_view(recs, page)
    modal = render_view("savings_modal.j2", page=view)
    assert_valid_view(modal, "modal")
    assert view.listed == min(count, 100)
    assert view.more == (count > 100)
    assert ("…and smaller ones" in json.dumps(modal, ensure_ascii=False)) == (count > 100)
    assert view.page == min(page, max(0, (min(count, 100) - 1) // 20))
    savings = [line.id for line in view.lines]
    ranked = sorted(recs, key=lambda r: -(r.monthly_savings_usd or 0.0))
    assert savings == [r.id for r in ranked[view.page * 20 : view.page * 20 + 20]]


@pytest.mark.parametrize(
    "closest", [(), ("checkout-api",), tuple(LONG + str(i) for i in range(50))]
)
def test_unknown_function(closest: tuple[str, ...]) -> None:
    blocks = render_blocks(
        "unknown_function.j2", name=NASTY[:300], closest=list(closest), region=""
    )
    assert_valid_message(blocks)


@pytest.mark.parametrize("text", ["Applied.", NASTY])
def test_notice_and_help(text: str) -> None:
    assert_valid_message(render_blocks("notice.j2", text=text, icon=":warning:"))
    assert_valid_message(render_blocks("help.j2", apply_mode="approve"))
    modal = render_view("notice_modal.j2", text=text, icon="")
    assert_valid_view(modal, "modal")
    assert modal["blocks"] == render_blocks("notice.j2", text=text, icon="")


@pytest.mark.parametrize("dataset", ["representative", "extreme"])
def test_benchmark_result(dataset: str) -> None:
    item = DATASETS[dataset]()[0]
    bench = BenchmarkView(
        function=LONG,
        summary=NASTY,
        invocations=10**12,
        tuning_cost="$" + f"{HUGE:,.2f}",
        results=tuple(NASTY[:100] for _ in range(200)),
        recommendation=recommendation_view(item, SETTINGS),
    )
    assert_valid_message(render_blocks("benchmark.j2", bench=bench))


# ---- modals and the home tab ---------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["representative", "extreme", "other_changes"])
def test_details_modal(dataset: str) -> None:
    for item in DATASETS[dataset]():
        view = render_view("details_modal.j2", details=details_view(item, SETTINGS))
        assert_valid_view(view, "modal")
        if item.recommendation.change is not None:
            assert "The same change in your template" in json.dumps(view)


@pytest.mark.parametrize("page", [0, 1, 2, 99])
def test_list_modal_pages(page: int) -> None:
    items = extreme(55)
    view = render_view(
        "list_modal.j2", page=list_page_view(LONG, "arn:" + LONG, items, SETTINGS, page)
    )
    assert_valid_view(view, "modal")
    labels = [
        element["text"]["text"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    expected = {0: ["Next"], 1: ["Previous", "Next"], 2: ["Previous"], 99: ["Previous"]}[page]
    assert labels == expected


@pytest.mark.parametrize("size", [0, 3, 100])
def test_home(size: int) -> None:
    items = extreme(size) if size else []
    view = home_view(
        "UALICE1",
        [item.recommendation for item in items],
        [PendingApproval(stored=item, approvers=("UALICE1",)) for item in items],
        [record(description=NASTY) for _ in range(size)],
        SETTINGS,
    )
    assert_valid_view(render_view("home.j2", home=view), "home")


# ---- the escaping helpers ------------------------------------------------------------------


def test_escape_mrkdwn_escapes_exactly_the_three_control_characters() -> None:
    assert escape_mrkdwn("a & <b> *c*") == "a &amp; &lt;b&gt; *c*"


def test_clip_marks_what_it_cut() -> None:
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 3) == "abc"


def test_an_unsafe_date_is_never_built_from_user_text() -> None:
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    view = recommendation_view(
        representative()[0],
        SETTINGS,
        state=RecState.DISMISSED,
        dismissed_by="UBOB1",
        dismissed_until=when,
    )
    assert view.state_text == (
        ":zzz: Dismissed by <@UBOB1> until <!date^1767323040^{date_short_pretty} {time}"
        "|2026-01-02 03:04 UTC>"
    )


def test_a_card_says_when_report_lines_are_off() -> None:
    """tunebot's own functions (and anyone's at SystemLogLevel WARN) write no REPORT lines."""
    quiet = snapshot(log_format=LogFormat.JSON, system_log_level=LogLevel.WARN)
    blocks = render_blocks(
        "card.j2", card=card_view(quiet, representative(), SETTINGS, requested_by=None, now=NOW)
    )
    assert_valid_message(blocks)
    notes = [
        element["text"]
        for block in blocks
        if block["type"] == "context"
        for element in block["elements"]
    ]
    expected = (
        ":information_source: REPORT lines are off (system log level WARN), so memory used, "
        "cold starts and timeouts are unknown; Benchmark first measures a copy, which logs them."
    )
    assert expected in notes
    loud = card_view(snapshot(), representative(), SETTINGS, requested_by=None, now=NOW)
    assert loud.report_lines_note is None


def test_a_card_stays_within_50_blocks_when_every_recommendation_shows_its_state() -> None:
    items = extreme(55)
    fn = snapshot(
        cloudformation_stack="stack",
        tags={"env": "prod"},
        log_format=LogFormat.JSON,
        system_log_level=LogLevel.ERROR,
    )
    card = card_view(fn, items, SETTINGS, requested_by="UALICE1", now=NOW)
    blocks = render_blocks("card.j2", card=card)
    for item in items[: len(card.recommendations)]:
        pending = render_blocks(
            "recommendation.j2",
            rec=recommendation_view(item, SETTINGS, state=RecState.PENDING, approvers=("UA1",)),
        )
        first = next(
            i
            for i, b in enumerate(blocks)
            if b.get("block_id", "").startswith(item.recommendation.id)
        )
        rest = [b for b in blocks if not b.get("block_id", "").startswith(item.recommendation.id)]
        blocks = rest[:first] + pending + rest[first:]
    assert_valid_message(blocks)
    assert sum(1 for b in blocks if b.get("block_id", "").endswith(":state")) == 8


def test_mentions_are_kept_only_for_slack_users() -> None:
    from bot.rendering import escape_keeping_mentions
    from bot.views import mention

    assert mention("UALICE1") == "<@UALICE1>"
    assert mention("slack:W0123ABC") == "<@W0123ABC>"
    assert mention("cli:<alice>") == "cli:&lt;alice&gt;"
    assert escape_keeping_mentions("by <@U123> & <!channel>") == "by <@U123> &amp; &lt;!channel&gt;"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "unknown"),
        (float("nan"), "unknown"),
        (0.0, "$0.00"),
        (12.345, "$12.35"),
        (-3.5, "-$3.50"),
        (1234.5, "$1,234"),
        (HUGE, "$123,456,789,012,346"),
    ],
)
def test_money(value: float | None, shown: str) -> None:
    from bot.views import money

    assert money(value) == shown


@pytest.mark.parametrize("cost", [None, 0.0, 19.26, HUGE])
def test_card_summary_alone_replaces_the_cards_summary(cost: float | None) -> None:
    summary = card_summary(
        LONG,
        "us-east-1",
        "123456789012",
        cost,
        open_savings=HUGE,
        applied_savings=HUGE / 3,
        count=7,
        hidden=(48, round(HUGE * 100)),
    )
    blocks = render_blocks("card_summary.j2", summary=summary)
    assert_valid_message(blocks)
    (block,) = blocks
    assert hidden_on_card(block["block_id"]) == (48, round(HUGE * 100))
    assert block["fields"][3]["text"].endswith("from 55 open recommendations")


def test_a_card_says_each_recommendations_state_and_its_hidden_ones() -> None:
    items = extreme(12)
    card = card_view(snapshot(), items, SETTINGS, requested_by="UALICE1", now=NOW)
    blocks = render_blocks("card.j2", card=card)
    shown = [item.recommendation.id for item in items[:8]]
    assert recommendation_states(blocks) == dict.fromkeys(shown, RecState.OPEN)
    hidden = round(sum(i.recommendation.monthly_savings_usd or 0 for i in items[8:]) * 100)
    assert hidden_on_card(blocks[1]["block_id"]) == (4, hidden)
    applied = render_blocks(
        "recommendation.j2",
        rec=recommendation_view(items[0], SETTINGS, state=RecState.APPLIED, record=record()),
    )
    assert recommendation_states(applied) == {shown[0]: RecState.APPLIED}
    # Cards posted before the state was in the block id read as open.
    assert recommendation_states([{"block_id": f"{shown[0]}:section"}]) == {shown[0]: RecState.OPEN}
    assert recommendation_states([{"block_id": f"{shown[0]}:evidence"}]) == {}

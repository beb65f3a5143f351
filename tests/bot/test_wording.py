"""Words a careful reader would not trip on: costs said as costs, no "Saves unknown", the Apply
button's dialog named after what it does, Undo's dialog saying what Undo sets."""

from __future__ import annotations

from typing import Any

import pytest

from bot.policy import Policy, TagRule
from bot.rendering import render_blocks
from bot.settings import BotSettings
from bot.views import RecState, card_view, recommendation_view, savings_phrase, scan_view
from fakes.services import NOW, memory_recommendation, snapshot
from recommendations.recommendation import TradeOff
from service.api import StoredRecommendation

SETTINGS = BotSettings(
    policy=Policy(appliers=("UALICE1",), rules=(TagRule(tag="env=prod", approvers=2),))
)


@pytest.mark.parametrize(
    ("saving", "trade_off", "said"),
    [
        (12.0, None, "Saves *$12.00/mo*"),
        (-16.43, "speed", "Costs *$16.43/mo* more (buys speed)"),
        (-3.0, None, "Costs *$3.00/mo* more"),
        (0.0, None, "No change in cost"),
        (0.004, None, "No change in cost"),
        (None, None, "Saving not priced"),
    ],
)
def test_savings_phrase(saving: float | None, trade_off: str | None, said: str) -> None:
    assert savings_phrase(saving, trade_off) == said


def _stored(**extra: Any) -> StoredRecommendation:
    fn = snapshot()
    return StoredRecommendation(
        recommendation=memory_recommendation(fn, **extra),
        function_tags=dict(fn.tags),
        created_at=NOW,
    )


def _card_text(stored: StoredRecommendation) -> str:
    blocks = render_blocks(
        "card.j2", card=card_view(snapshot(), [stored], SETTINGS, requested_by="U1", now=NOW)
    )
    return "\n".join(
        block["text"]["text"] for block in blocks if block["type"] == "section" and "text" in block
    )


def test_a_change_that_costs_more_says_so_on_the_card() -> None:
    stored = _stored(
        after=2048,
        title="Raise memory to 2048 MB",
        monthly_cost_after_usd=36.43,
        monthly_savings_usd=-16.43,
        monthly_savings_low_usd=-16.43,
        monthly_savings_high_usd=2.0,
        trade_off=TradeOff.SPEED,
    )
    text = _card_text(stored)
    assert "Costs *$16.43/mo* more (buys speed) (from $16.43 more to $2.00 saved)" in text
    assert "Saves *-" not in text and "Saves -" not in text


def test_an_unpriced_change_never_says_saves_unknown() -> None:
    stored = _stored(
        monthly_savings_usd=None, monthly_cost_before_usd=None, monthly_cost_after_usd=None
    )
    text = _card_text(stored)
    assert "Saving not priced" in text and "unknown/mo" not in text
    scan = render_blocks("scan.j2", scan=scan_view([stored.recommendation], 1, {}), list_size=100)
    assert "unknown/mo" not in str(scan)


def test_approve_confirm_says_approve_and_undo_confirm_says_what_it_sets() -> None:
    prod = snapshot(tags={"env": "prod", "tunebot:managed": "true"})
    rec = memory_recommendation(prod)
    stored = StoredRecommendation(recommendation=rec, function_tags=dict(prod.tags), created_at=NOW)
    blocks = render_blocks(
        "card.j2", card=card_view(prod, [stored], SETTINGS, requested_by="U1", now=NOW)
    )
    apply = next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "tune_apply"
    )
    assert apply["text"]["text"].startswith("Approve")
    assert apply["confirm"]["title"]["text"] == "Approve this change?"
    assert apply["confirm"]["confirm"]["text"] == "Approve"
    view = recommendation_view(stored, SETTINGS, state=RecState.APPLIED)
    assert view.undo_change == "Set memory of checkout-api from 512 MB to 1024 MB"

"""The apply flow decides who may apply from the function's tags read at the click."""

from __future__ import annotations

import json

import pytest

from bot.approvals import ApplyFlow, FlowKind
from bot.settings import BotSettings
from fakes.services import InMemoryServices, memory_recommendation, snapshot
from service.errors import ServiceError

POLICY = {"appliers": ["UALICE1", "UBOB1"], "rules": [{"tag": "env=prod", "approvers": 2}]}


@pytest.fixture
def services() -> InMemoryServices:
    fn = snapshot()
    services = InMemoryServices([fn])
    services.recommend(memory_recommendation(fn))
    services.save_recommendations(services.analyze_function(fn.name), requested_by="UALICE1")
    return services


def flow(services: InMemoryServices) -> ApplyFlow:
    settings = BotSettings.from_env({"TUNEBOT_POLICY": json.dumps(POLICY)})
    return ApplyFlow(settings, services, lambda user: ())


def rec_id(services: InMemoryServices) -> str:
    return next(iter(services.stored))


def test_untagging_after_the_card_was_posted_is_seen_at_apply(services: InMemoryServices) -> None:
    services.live_tags[snapshot().arn] = {}
    result = flow(services).approve(rec_id(services), "UALICE1")
    assert (result.kind, result.message) == (
        FlowKind.REFUSED,
        "tunebot may not change checkout-api: it lacks the tag tunebot:managed=true.",
    )
    assert services.apply_calls == 0


def test_a_function_tagged_production_after_the_card_needs_two_approvers(
    services: InMemoryServices,
) -> None:
    services.live_tags[snapshot().arn] = {"tunebot:managed": "true", "env": "prod"}
    first = flow(services).approve(rec_id(services), "UALICE1")
    assert (first.kind, first.required) == (FlowKind.PENDING, 2)
    assert first.stored is not None and first.stored.function_tags["env"] == "prod"
    assert services.apply_calls == 0
    second = flow(services).approve(rec_id(services), "UBOB1")
    assert second.kind is FlowKind.APPLIED


def test_unreadable_tags_refuse_with_one_sentence(
    services: InMemoryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(arn: str) -> dict[str, str]:
        raise ServiceError("Access denied: the credentials may not read the tags (AccessDenied).")

    monkeypatch.setattr(services, "function_tags", denied)
    result = flow(services).approve(rec_id(services), "UALICE1")
    assert result.kind is FlowKind.REFUSED
    assert result.message == (
        "tunebot could not read the tags of checkout-api to check who may change it, so "
        "nothing was changed: Access denied: the credentials may not read the tags "
        "(AccessDenied)."
    )
    assert services.apply_calls == 0


def test_undo_is_decided_from_the_live_tags_too(services: InMemoryServices) -> None:
    applied = flow(services).approve(rec_id(services), "UALICE1")
    assert applied.kind is FlowKind.APPLIED and applied.record is not None
    services.live_tags[snapshot().arn] = {}
    undo = flow(services).undo(applied.record.change_id, "UBOB1")
    assert undo.kind is FlowKind.REFUSED

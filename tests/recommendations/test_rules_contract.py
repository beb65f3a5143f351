"""Every rule keeps the contract: stable ids, docstring shape, real field names, IAM actions,
and every rule fires on examples/fleet.json."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from recommendations.catalogue import parse_rule_docstring
from recommendations.changes import CHANGE_TYPES
from recommendations.engine import analyze_fleet
from recommendations.rules import RULE_CLASSES
from recommendations.rules.base import Outcome, Rule
from recommendations.snapshot import (
    AsyncInvokeConfig,
    EventSourceMapping,
    FunctionSnapshot,
    FunctionStats,
    Layer,
    LogGroupInfo,
)
from recommendations.snapshot_io import parse_fleet_snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.json"
NESTED = {
    "stats": FunctionStats,
    "layers[]": Layer,
    "event_source_mappings[]": EventSourceMapping,
    "async_config": AsyncInvokeConfig,
    "log_group_info": LogGroupInfo,
}


def _has(model: type, name: str) -> bool:
    return name in model.model_fields or isinstance(getattr(model, name, None), property)  # type: ignore[attr-defined]


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [rule.rule_id for rule in RULE_CLASSES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Z]+-\d{3}", rule_id) for rule_id in ids)


@pytest.mark.parametrize("rule_class", RULE_CLASSES, ids=lambda rule: rule.rule_id)
def test_rule_metadata(rule_class: type[Rule]) -> None:
    doc = parse_rule_docstring(rule_class)  # raises on a malformed docstring
    assert doc.summary.endswith(".")
    assert rule_class.name and rule_class.needs
    for field in rule_class.needs:
        head, _, tail = field.rpartition(".")
        model = NESTED[head] if head else FunctionSnapshot
        assert _has(model, tail), f"{rule_class.rule_id} needs unknown field {field}"
    if rule_class.proposes is None:
        assert rule_class.iam_actions == ()
    else:
        assert rule_class.proposes in CHANGE_TYPES
        assert rule_class.iam_actions == rule_class.proposes.iam_actions  # type: ignore[attr-defined]


def test_every_rule_fires_on_the_example_fleet() -> None:
    fleet = parse_fleet_snapshot(EXAMPLE.read_text(), str(EXAMPLE))
    report = analyze_fleet(fleet)
    fired = {
        r.rule_id for fn in report.functions for r in fn.results if r.outcome is Outcome.RECOMMEND
    }
    shown = {rec.rule_id for rec in report.recommendations}
    every = {rule.rule_id for rule in RULE_CLASSES}
    assert fired == every
    assert shown == every  # none is entirely hidden by conflict resolution
    assert not [
        r.reason
        for fn in report.functions
        for r in fn.results
        if r.reason.startswith("the rule failed")
    ]
    assert len(fleet.functions) == 15

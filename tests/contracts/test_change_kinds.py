"""Every Change type declares what it takes to offer it: an applier (aws/appliers, one
``ChangeKind`` in its module's ``KINDS``) with IAM actions the Slack function is granted, an
inverse for undo, and a template snippet renderer (bot/snippets.py ``RENDERERS``).

The types are found by introspecting recommendations.changes, so a new one fails here until it
has all of them (and an example below).
"""

from __future__ import annotations

import inspect
import typing
from typing import Literal

import pytest

from aws.appliers.base import ApplyContext
from aws.appliers.errors import ChangeNotPossibleError
from aws.appliers.registry import KINDS, apply_change
from bot.snippets import RENDERERS, NoSnippetError, snippet_for
from recommendations import changes
from recommendations.changes import (
    CHANGE_TYPES,
    ArchitectureChange,
    AsyncFailureDestinationChange,
    AsyncSettings,
    Change,
    EphemeralStorageChange,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    LoggingSettings,
    LogLevelChange,
    LogRetentionChange,
    MemoryChange,
    ProvisionedConcurrencyChange,
    ReservedConcurrencyChange,
    TimeoutChange,
    TracingChange,
)
from recommendations.snapshot import Architecture, LogFormat, LogLevel, TracingMode
from tests.deploy.cfn import function_statements, load_template

SLACK_GRANTS = function_statements(load_template())["SlackFunction"]


def change_types() -> list[type[changes._ChangeBase]]:
    """Concrete Change types: subclasses of the base defined in recommendations.changes that
    have a ``kind`` discriminator."""
    return [
        cls
        for _, cls in inspect.getmembers(changes, inspect.isclass)
        if issubclass(cls, changes._ChangeBase)
        and cls is not changes._ChangeBase
        and cls.__module__ == changes.__name__
        and "kind" in cls.model_fields
    ]


# One valid instance per type, before != after; ``create_queue_name`` unset (undo drops it).
EXAMPLES: dict[type[changes._ChangeBase], Change] = {
    MemoryChange: MemoryChange(function_name="checkout", before=1024, after=512),
    TimeoutChange: TimeoutChange(function_name="checkout", before=30, after=10),
    EphemeralStorageChange: EphemeralStorageChange(
        function_name="checkout", before=2048, after=512
    ),
    ArchitectureChange: ArchitectureChange(
        function_name="checkout", before=Architecture.X86_64, after=Architecture.ARM64
    ),
    EventSourceMappingChange: EventSourceMappingChange(
        function_name="indexer",
        mapping_uuid="u-1",
        source_arn="arn:aws:sqs:us-east-1:123456789012:orders",
        before=EventSourceMappingSettings(batch_size=10),
        after=EventSourceMappingSettings(batch_size=100, maximum_batching_window_s=5),
    ),
    AsyncFailureDestinationChange: AsyncFailureDestinationChange(
        function_name="checkout",
        before=AsyncSettings(),
        after=AsyncSettings(on_failure_destination="arn:aws:sqs:us-east-1:123456789012:dlq"),
    ),
    ReservedConcurrencyChange: ReservedConcurrencyChange(
        function_name="checkout", before=None, after=50
    ),
    ProvisionedConcurrencyChange: ProvisionedConcurrencyChange(
        function_name="checkout", qualifier="live", before=5, after=0
    ),
    LogLevelChange: LogLevelChange(
        function_name="checkout",
        before=LoggingSettings(),
        after=LoggingSettings(log_format=LogFormat.JSON, application_log_level=LogLevel.WARN),
    ),
    LogRetentionChange: LogRetentionChange(
        function_name="checkout", log_group="/aws/lambda/checkout", before=None, after=30
    ),
    TracingChange: TracingChange(
        function_name="checkout", before=TracingMode.PASS_THROUGH, after=TracingMode.ACTIVE
    ),
}


def missing_declarations(change_type: type[object]) -> list[str]:
    """What ``change_type`` lacks, one phrase each; empty when it declares everything."""
    missing = []
    appliers = [kind for kind in KINDS if kind.change_type is change_type]
    if len(appliers) != 1:
        missing.append(f"applier ({len(appliers)} ChangeKind declarations, need exactly one)")
    if change_type not in RENDERERS:
        missing.append("snippet (no renderer in bot.snippets.RENDERERS)")
    if not callable(getattr(change_type, "inverse", None)):
        missing.append("inverse")
    if change_type not in EXAMPLES:
        missing.append("example (in EXAMPLES of this test)")
    return missing


CHANGE_TYPES_FOUND = change_types()


def _ids(change_type: type[object]) -> str:
    return change_type.__name__


def test_introspection_finds_every_listed_change_type() -> None:
    assert len(CHANGE_TYPES_FOUND) >= 11  # guards the discovery itself
    assert set(CHANGE_TYPES_FOUND) == set(CHANGE_TYPES)
    union_members = typing.get_args(typing.get_args(Change)[0])
    assert set(CHANGE_TYPES_FOUND) == set(union_members)


def test_appliers_are_declared_only_for_change_types() -> None:
    assert {kind.change_type for kind in KINDS} <= set(CHANGE_TYPES_FOUND)
    assert set(RENDERERS) <= set(CHANGE_TYPES_FOUND)


@pytest.mark.parametrize("change_type", CHANGE_TYPES_FOUND, ids=_ids)
def test_change_type_declares_applier_snippet_inverse_and_example(
    change_type: type[changes._ChangeBase],
) -> None:
    missing = missing_declarations(change_type)
    assert not missing, f"{change_type.__name__} is missing: {'; '.join(missing)}"


@pytest.mark.parametrize("change_type", CHANGE_TYPES_FOUND, ids=_ids)
def test_applier_iam_actions_are_granted_to_the_slack_function(
    change_type: type[changes._ChangeBase],
) -> None:
    [kind] = [kind for kind in KINDS if kind.change_type is change_type]
    assert kind.iam_actions, f"{change_type.__name__}'s applier declares no IAM actions"
    ungranted = [
        action
        for action in kind.iam_actions
        if not any(statement.allows(action) for statement in SLACK_GRANTS)
    ]
    assert not ungranted, f"template.yaml does not grant SlackFunction {ungranted}"
    # What the change type (and so the catalogue and its rules) lists, the applier covers.
    assert set(change_type.iam_actions) <= set(kind.iam_actions)


@pytest.mark.parametrize("change_type", CHANGE_TYPES_FOUND, ids=_ids)
def test_inverse_round_trips(change_type: type[changes._ChangeBase]) -> None:
    change = EXAMPLES[change_type]
    assert type(change) is change_type
    undo = change.inverse()
    assert type(undo) is change_type
    assert undo != change
    assert undo.setting == change.setting
    assert undo.inverse() == change


@pytest.mark.parametrize("change_type", CHANGE_TYPES_FOUND, ids=_ids)
def test_snippet_renders_for_the_example(change_type: type[changes._ChangeBase]) -> None:
    snippet = snippet_for(EXAMPLES[change_type])
    assert snippet.sam.strip()
    assert snippet.cloudformation.strip()


def test_an_undeclared_change_type_is_reported() -> None:
    class UndeclaredChange(changes._ChangeBase):
        kind: Literal["undeclared"] = "undeclared"
        before: int = 1
        after: int = 2

    missing = missing_declarations(UndeclaredChange)
    assert [phrase.split(" ")[0] for phrase in missing] == [
        "applier",
        "snippet",
        "inverse",
        "example",
    ]
    change = UndeclaredChange(function_name="checkout")
    with pytest.raises(ChangeNotPossibleError, match="no applier for a UndeclaredChange"):
        apply_change(change, ApplyContext())  # type: ignore[arg-type]
    with pytest.raises(NoSnippetError, match="no template snippet for UndeclaredChange"):
        snippet_for(change)  # type: ignore[arg-type]

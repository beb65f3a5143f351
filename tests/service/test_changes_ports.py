"""The change use case against its ports alone: the applier and the observer are fakes that
raise the port's errors (``service.errors``), not ``aws``'s, so what the service tells apart
is the port's contract. The store is the real one on moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from moto import mock_aws

from aws.store import StateStore
from recommendations.changes import Change
from service.changes import ChangeService, ResultKind
from service.errors import ChangeFailed, StaleChange
from service.records import (
    ApplyOutcome,
    AuditResult,
    ChangeObservation,
    ChangeStatus,
    Verdict,
)
from tests.aws.change_helpers import Clock, moto_store, recommendation


class ScriptedApplier:
    """Raises ``error`` when given one, else applies the change as asked."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[Change, str | None, str | None]] = []

    def apply(
        self, change: Change, *, function_arn: str | None, expected_revision_id: str | None
    ) -> ApplyOutcome:
        self.calls.append((change, function_arn, expected_revision_id))
        if self.error is not None:
            raise self.error
        return ApplyOutcome(change=change, request_ids=("req-1",))


class ScriptedObserver:
    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def observe(self, change: Change, function_arn: str | None) -> ChangeObservation:
        return ChangeObservation(verdict=self.verdict)


@pytest.fixture
def store() -> Iterator[StateStore]:
    with mock_aws(), moto_store(Clock(tick=timedelta(seconds=1))) as store:
        yield store


def _retryable_failure(message: str) -> ChangeFailed:
    error = ChangeFailed(message)
    error.retryable = True
    return error


def test_a_stale_port_error_changes_nothing_and_is_audited_as_stale(store: StateStore) -> None:
    message = "The memory of checkout-api is 2048 MB now; nothing was changed."
    applier = ScriptedApplier(StaleChange(message))
    service = ChangeService(store, applier, ScriptedObserver(Verdict.NO_EFFECT))
    rec = recommendation()
    store.put_recommendation(rec)
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert (result.kind, result.message) == (ResultKind.STALE, message)
    assert applier.calls == [(rec.change, rec.function_arn, None)]
    [audit] = service.audit()
    assert (audit.result, audit.message) == (AuditResult.STALE, message)


def test_a_failure_the_observer_finds_not_in_effect_is_a_retryable_failure(
    store: StateStore,
) -> None:
    applier = ScriptedApplier(_retryable_failure("Could not update checkout-api: throttled."))
    service = ChangeService(store, applier, ScriptedObserver(Verdict.NO_EFFECT))
    rec = recommendation()
    store.put_recommendation(rec)
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert result.kind is ResultKind.FAILED and result.retryable
    assert result.message == "Could not update checkout-api: throttled."
    assert [a.result for a in service.audit()] == [AuditResult.FAILED]


def test_a_failure_the_observer_finds_in_effect_is_recorded_as_applied(store: StateStore) -> None:
    applier = ScriptedApplier(ChangeFailed("Could not wait for checkout-api: timed out."))
    service = ChangeService(store, applier, ScriptedObserver(Verdict.TOOK_EFFECT))
    rec = recommendation()
    store.put_recommendation(rec)
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert result.kind is ResultKind.APPLIED
    assert result.notes == (
        "AWS answered: Could not wait for checkout-api: timed out. "
        "The function reads the new value.",
    )
    record = store.get_change(result.change_id or "")
    assert record is not None and record.status is ChangeStatus.APPLIED
    assert [a.result for a in service.audit()] == [AuditResult.APPLIED]

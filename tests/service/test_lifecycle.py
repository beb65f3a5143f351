"""One state per change, read from the change record (and a fresh read where there is one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recommendations.changes import MemoryChange
from service.lifecycle import ChangeState, latest_changes, state_of
from service.records import ChangeRecord, ChangeStatus, Verdict

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def change(change_id: str, **extra: object) -> ChangeRecord:
    fields: dict[str, object] = {
        "change_id": change_id,
        "recommendation_id": "rec-1",
        "function_name": "orders",
        "change": MemoryChange(function_name="orders", before=1024, after=512),
        "description": "Set memory of orders from 1024 MB to 512 MB",
        "actor": "slack:UALICE1",
        "applied_at": T0,
    }
    fields.update(extra)
    return ChangeRecord.model_validate(fields)


def test_an_undo_record_is_never_a_recommendations_change() -> None:
    undone = change(
        "chg-1", status=ChangeStatus.UNDONE, undone_by="slack:UBOB1", undo_change_id="chg-2"
    )
    undo = change(
        "chg-2",
        reverts="chg-1",
        change=MemoryChange(function_name="orders", before=512, after=1024),
        applied_at=T0 + timedelta(hours=1),
    )
    latest = latest_changes([undo, undone])
    assert latest == {"rec-1": undone}
    assert state_of(latest["rec-1"]) is ChangeState.UNDONE
    assert not undo.in_force and undo.is_undo


def test_failed_and_unfinished_attempts_changed_nothing() -> None:
    assert latest_changes([change("chg-1", status=ChangeStatus.FAILED)]) == {}
    assert latest_changes([change("chg-1", status=ChangeStatus.INTENDED)]) == {}


def test_the_latest_change_of_a_recommendation_wins() -> None:
    first = change("chg-1", status=ChangeStatus.UNDONE)
    again = change("chg-3", applied_at=T0 + timedelta(days=1))
    assert latest_changes([again, first])["rec-1"] is again
    assert latest_changes([first, again])["rec-1"] is again


def test_a_fresh_read_tells_set_back_and_changed_again_apart() -> None:
    record = change("chg-1")
    assert state_of(record) is ChangeState.APPLIED
    assert state_of(record, Verdict.TOOK_EFFECT) is ChangeState.APPLIED
    assert state_of(record, Verdict.NO_EFFECT) is ChangeState.REVERTED
    assert state_of(record, Verdict.NEITHER) is ChangeState.DRIFTED
    # An undone change stays undone whatever the function reads now.
    assert state_of(change("chg-1", status=ChangeStatus.UNDONE), Verdict.NO_EFFECT) is (
        ChangeState.UNDONE
    )


def test_people_are_shown_as_slack_users() -> None:
    record = change("chg-1", approvers=("slack:UALICE1", "slack:UBOB1"), undone_by="slack:UBOB1")
    assert record.applied_by == "UALICE1"
    assert record.approver_users == ("UALICE1", "UBOB1")
    assert record.undone_by_user == "UBOB1"
    assert change("chg-1", actor="tunebot").applied_by == "tunebot"

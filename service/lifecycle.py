"""Where a recommendation's change stands, read from the one change record the store keeps.

Every surface (the ``/tune`` card, alert and cost-anomaly cards, the App Home, the digest,
``tunebot audit``) asks this module instead of looking at a change record's status itself, so
an undo is never shown as "applied", a failed attempt never counts, and a change someone
reverted outside tunebot is not offered an Undo that would fail as stale.

The states (``docs/state.md`` draws them)::

    proposed ──approve──▶ approving (n of m) ──apply──▶ applied ──undo──▶ undone ──apply──▶ …
        │                                                 │
        └──dismiss──▶ dismissed                           └─(read: the function no longer has
                                                             the change)─▶ reverted
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from service.records import ChangeRecord, ChangeStatus, Verdict


class ChangeState(StrEnum):
    """The state of the latest change tunebot made for one recommendation."""

    # In force: the function reads what tunebot set (or was not read; the record says so).
    APPLIED = "applied"
    # Undone through tunebot: the recommendation may be applied again.
    UNDONE = "undone"
    # Set back outside tunebot (a deployment, the console): the function reads ``before`` again.
    REVERTED = "reverted"
    # Changed again outside tunebot: it reads neither ``before`` nor ``after``.
    DRIFTED = "drifted"


def latest_changes(records: Iterable[ChangeRecord]) -> dict[str, ChangeRecord]:
    """The latest change that took effect per recommendation id.

    Undo records (their own change, ``reverts`` set) are not a recommendation's change: the
    change they undid carries ``undone``. Attempts that failed or never finished changed
    nothing, so they are not a state a card shows.
    """
    latest: dict[str, ChangeRecord] = {}
    for record in records:
        if (
            record.is_undo
            or not record.recommendation_id
            or record.status not in (ChangeStatus.APPLIED, ChangeStatus.UNDONE)
        ):
            continue
        held = latest.get(record.recommendation_id)
        if held is None or record.applied_at > held.applied_at:
            latest[record.recommendation_id] = record
    return latest


def state_of(record: ChangeRecord, observed: Verdict | None = None) -> ChangeState:
    """``record``'s state; ``observed`` is what a fresh read of its target says, when read."""
    if record.status is ChangeStatus.UNDONE:
        return ChangeState.UNDONE
    if observed is Verdict.NO_EFFECT:
        return ChangeState.REVERTED
    if observed is Verdict.NEITHER:
        return ChangeState.DRIFTED
    return ChangeState.APPLIED

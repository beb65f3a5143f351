"""The shape every diagnosis has. One likely cause of an alarm is one class, catalogued like a rule.

A diagnosis looks at one function when an alarm on one of its ``metrics`` fires and names a
:class:`LikelyCause` with its evidence, or nothing. ``docs/alerts.md`` lists them, generated from
these classes (``make docs``); a test keeps it in sync.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import Frozen, FunctionSnapshot

# The same headings as a rule's docstring, in the same order.
DOCSTRING_HEADINGS = ("What it checks:", "Why it matters:", "What to do:")


class CauseKind(StrEnum):
    NEAR_TIMEOUT = "near_timeout"
    UNDER_PROVISIONED = "under_provisioned"
    COLD_STARTS = "cold_starts"
    LONG_TAIL = "long_tail"
    TIMEOUTS = "timeouts"
    OUT_OF_MEMORY = "out_of_memory"
    CODE_ERRORS = "code_errors"
    RESERVED_CONCURRENCY = "reserved_concurrency"
    ACCOUNT_CONCURRENCY = "account_concurrency"
    SMALL_BATCHES = "small_batches"
    ONE_BATCH_PER_SHARD = "one_batch_per_shard"
    POISON_RECORD = "poison_record"
    SLOW_PROCESSING = "slow_processing"
    ASYNC_BACKLOG = "async_backlog"
    ASYNC_DROPS = "async_drops"
    TRAFFIC_SPIKE = "traffic_spike"
    PROVISIONED_TOO_LOW = "provisioned_too_low"


class AlarmSignal(Frozen):
    """What the alarm measured, as far as the alarm says."""

    metric_names: tuple[str, ...] = Field(description="Lambda metrics the alarm reads")
    statistic: str | None = None
    threshold: float | None = None
    observed_value: float | None = None
    band_upper: float | None = None
    period_s: int | None = None
    is_expression: bool = False

    @property
    def primary_metric(self) -> str | None:
        return self.metric_names[0] if self.metric_names else None


class LikelyCause(Frozen):
    kind: CauseKind
    summary: str
    evidence: tuple[Evidence, ...] = ()
    confidence: Confidence


class Diagnosis(ABC):
    """One likely cause of an alarm.

    Subclasses set the class attributes and write a docstring with ``DOCSTRING_HEADINGS``.
    ``examine`` returns None when the cause is absent or the data to judge it is missing; it
    never guesses.
    """

    diagnosis_id: ClassVar[str]  # stable, never reused, e.g. "DX-001"
    name: ClassVar[str]
    kind: ClassVar[CauseKind]
    # The change categories whose recommendations address this cause, most direct first: an
    # alert card leads with those (``recommendations.alert_fixes.fixes_for``). Every diagnosis
    # declares its own; the catalogue documents them.
    addressed_by: ClassVar[tuple[Category, ...]]
    # Lambda metrics whose alarms this diagnosis explains, e.g. ("Duration",).
    metrics: ClassVar[tuple[str, ...]]
    # Snapshot fields it reads, dotted as a rule's ``needs`` (e.g. "stats.timeouts").
    needs: ClassVar[tuple[str, ...]]

    @abstractmethod
    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None: ...

    def cause(self, summary: str, confidence: Confidence, *evidence: Evidence) -> LikelyCause:
        return LikelyCause(
            kind=self.kind, summary=summary, evidence=tuple(evidence), confidence=confidence
        )


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"

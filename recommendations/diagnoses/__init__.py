"""The diagnoses catalogue. Add one by writing its class and listing it in ``DIAGNOSIS_CLASSES``.

For an alarm, every diagnosis whose ``metrics`` the alarm reads is examined in catalogue order
(the order below is the order causes of equal confidence are shown in).
"""

from __future__ import annotations

from functools import cache

from recommendations.diagnoses.async_events import AsyncBacklog, AsyncEventsDropped
from recommendations.diagnoses.base import Diagnosis
from recommendations.diagnoses.concurrency import (
    AccountConcurrencyReached,
    ProvisionedTooLow,
    ReservedConcurrencyReached,
)
from recommendations.diagnoses.duration import ColdStarts, LongTail, NearTimeout, UnderProvisioned
from recommendations.diagnoses.errors import CodeErrors, OutOfMemory, Timeouts
from recommendations.diagnoses.streams import (
    OneBatchPerShard,
    PoisonRecord,
    SlowProcessing,
    SmallStreamBatches,
)
from recommendations.diagnoses.traffic import TrafficSpike

# Catalogue order. Ids are stable and never reused, even when a diagnosis is retired.
DIAGNOSIS_CLASSES: tuple[type[Diagnosis], ...] = (
    NearTimeout,
    UnderProvisioned,
    ColdStarts,
    LongTail,
    Timeouts,
    OutOfMemory,
    CodeErrors,
    ReservedConcurrencyReached,
    AccountConcurrencyReached,
    SmallStreamBatches,
    PoisonRecord,
    OneBatchPerShard,
    SlowProcessing,
    AsyncEventsDropped,
    AsyncBacklog,
    TrafficSpike,
    ProvisionedTooLow,
)


@cache
def default_diagnoses() -> tuple[Diagnosis, ...]:
    return tuple(diagnosis_class() for diagnosis_class in DIAGNOSIS_CLASSES)


def diagnosed_metrics() -> frozenset[str]:
    """Every alarm metric some diagnosis explains."""
    return frozenset(metric for cls in DIAGNOSIS_CLASSES for metric in cls.metrics)

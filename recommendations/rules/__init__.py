"""The rules catalogue. Add a rule by writing its class and listing it in ``RULE_CLASSES``."""

from __future__ import annotations

from functools import cache

from recommendations.rules.architecture import Arm64Migration
from recommendations.rules.async_invoke import (
    AsyncEventsDroppedOrAgeing,
    AsyncWithoutFailureDestination,
)
from recommendations.rules.base import Rule
from recommendations.rules.batching import (
    NoPartialBatchResponse,
    QueueWithoutRedrive,
    SmallBatchesAtHighVolume,
    StreamFailuresDiscarded,
    StreamRetriesForever,
)
from recommendations.rules.cold_start import FrequentColdStarts
from recommendations.rules.concurrency import IdleProvisionedConcurrency, Throttling
from recommendations.rules.errors import DownstreamRetryStorm, ErrorsWasteCompute
from recommendations.rules.idle import IdleWithStandingCost
from recommendations.rules.logging import LogsNeverExpire, VerboseLogging
from recommendations.rules.memory import (
    CpuBoundNeedsMoreMemory,
    MemoryOverProvisioned,
    MemoryUnderProvisioned,
)
from recommendations.rules.package import OversizedPackage
from recommendations.rules.runtime import DeprecatedRuntime
from recommendations.rules.storage import EphemeralStorageOverProvisioned
from recommendations.rules.timeout import (
    ThinTimeoutHeadroom,
    TimeoutBreaksConstraint,
    TimeoutFarAboveNeed,
    TimeoutsHappening,
)
from recommendations.rules.tracing import ActiveTracingAtHighVolume

# Catalogue order. Ids are stable and never reused, even when a rule is retired.
RULE_CLASSES: tuple[type[Rule], ...] = (
    MemoryOverProvisioned,
    MemoryUnderProvisioned,
    CpuBoundNeedsMoreMemory,
    Arm64Migration,
    TimeoutsHappening,
    ThinTimeoutHeadroom,
    TimeoutFarAboveNeed,
    TimeoutBreaksConstraint,
    SmallBatchesAtHighVolume,
    NoPartialBatchResponse,
    StreamRetriesForever,
    QueueWithoutRedrive,
    StreamFailuresDiscarded,
    AsyncWithoutFailureDestination,
    AsyncEventsDroppedOrAgeing,
    Throttling,
    IdleProvisionedConcurrency,
    FrequentColdStarts,
    DeprecatedRuntime,
    OversizedPackage,
    ErrorsWasteCompute,
    DownstreamRetryStorm,
    EphemeralStorageOverProvisioned,
    IdleWithStandingCost,
    VerboseLogging,
    LogsNeverExpire,
    ActiveTracingAtHighVolume,
)


@cache
def default_rules() -> tuple[Rule, ...]:
    return tuple(rule_class() for rule_class in RULE_CLASSES)

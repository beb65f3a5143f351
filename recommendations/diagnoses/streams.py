"""Why a stream or Kafka trigger falls behind (IteratorAge, OffsetLag alarms)."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.diagnoses.base import AlarmSignal, CauseKind, Diagnosis, LikelyCause
from recommendations.diagnoses.duration import under_provisioned
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import EventSourceKind, EventSourceMapping, FunctionSnapshot

LAG_METRICS = ("IteratorAge", "OffsetLag")
# A stream batch this small makes each invocation carry few records.
SMALL_STREAM_BATCH = 100


def _lagging_sources(fn: FunctionSnapshot) -> list[EventSourceMapping]:
    return [
        mapping
        for mapping in fn.event_source_mappings
        if mapping.kind.is_stream or mapping.kind is EventSourceKind.KAFKA
    ]


def _source(mapping: EventSourceMapping) -> str:
    return mapping.source_arn.rsplit("/", 1)[-1]


class SmallStreamBatches(Diagnosis):
    """Small batches make the function fall behind its stream.

    What it checks:
    Stream and Kafka triggers whose batch size is under 100 records.

    Why it matters:
    Each invocation has a fixed overhead; with few records per batch the function spends its
    time starting batches and the iterator age grows.

    What to do:
    Raise the batch size (and a batching window) so each invocation carries more records.
    """

    diagnosis_id = "DX-010"
    name = "Small stream batches"
    kind = CauseKind.SMALL_BATCHES
    addressed_by = (Category.BATCHING,)
    metrics = LAG_METRICS
    needs = ("event_source_mappings[].batch_size",)

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        for mapping in _lagging_sources(fn):
            if mapping.batch_size is not None and mapping.batch_size < SMALL_STREAM_BATCH:
                return self.cause(
                    f"Small batches: the {_source(mapping)} trigger hands {mapping.batch_size} "
                    "records to each invocation, so the function falls behind the stream.",
                    Confidence.MEDIUM,
                    Evidence(label="batch size", value=mapping.batch_size, source="config"),
                )
        return None


class PoisonRecord(Diagnosis):
    """A failing record blocks its shard.

    What it checks:
    Stream triggers that retry until a record expires, on a function with errors.

    Why it matters:
    The shard makes no progress while the bad record is retried, so every later record waits
    and the iterator age climbs until the record expires (24 hours up to a year).

    What to do:
    Bound the retries, turn on batch bisection and add an on-failure destination, so the bad
    record is set aside and the shard moves on.
    """

    diagnosis_id = "DX-011"
    name = "Poison record"
    kind = CauseKind.POISON_RECORD
    addressed_by = (Category.BATCHING,)
    metrics = LAG_METRICS
    needs = (
        "event_source_mappings[].maximum_retry_attempts",
        "event_source_mappings[].maximum_record_age_s",
        "stats.errors",
    )

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        errors = fn.stats.errors if fn.stats is not None else None
        for mapping in _lagging_sources(fn):
            if mapping.retries_forever and errors:
                return self.cause(
                    f"A failing record blocks its shard: the {_source(mapping)} trigger retries "
                    f"until the record expires and the function had {errors:,} errors.",
                    Confidence.MEDIUM,
                    Evidence(label="errors", value=errors, source="metrics"),
                )
        return None


class OneBatchPerShard(Diagnosis):
    """Each shard is processed one batch at a time.

    What it checks:
    Kinesis and DynamoDB stream triggers with a parallelization factor of 1 (the default).

    Why it matters:
    A busy shard can only go as fast as one invocation at a time processes its batches.

    What to do:
    Raise the trigger's parallelization factor (up to 10) to process a shard's batches
    concurrently, keeping order per partition key.
    """

    diagnosis_id = "DX-012"
    name = "One batch per shard"
    kind = CauseKind.ONE_BATCH_PER_SHARD
    addressed_by = (Category.BATCHING,)
    metrics = LAG_METRICS
    needs = ("event_source_mappings[].parallelization_factor",)

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        for mapping in _lagging_sources(fn):
            if (mapping.parallelization_factor or 1) == 1 and mapping.kind.is_stream:
                return self.cause(
                    f"One batch per shard at a time on {_source(mapping)}: a parallelization "
                    "factor up to 10 processes a shard's batches concurrently.",
                    Confidence.LOW,
                    Evidence(label="parallelization factor", value=1, source="config"),
                )
        return None


class SlowProcessing(Diagnosis):
    """The function processes its batches too slowly for lack of CPU.

    What it checks:
    The same signs as an under-provisioned function (below one vCPU with memory pressure, or a
    memory increase recommended) on a function behind its stream.

    Why it matters:
    Slow batches are the other way a consumer falls behind: each batch takes longer than the
    stream's pace allows.

    What to do:
    Apply the memory increase (a benchmark shows the cheapest size that keeps up).
    """

    diagnosis_id = "DX-013"
    name = "Slow processing"
    kind = CauseKind.SLOW_PROCESSING
    addressed_by = (Category.MEMORY,)
    metrics = LAG_METRICS
    needs = ("memory_mb", "stats.max_memory_used_mb")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        found = under_provisioned(fn, recommendations)
        if found is None:
            return None
        summary, confidence, evidence = found
        return self.cause(summary, confidence, *evidence)

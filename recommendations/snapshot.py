"""What tunebot knows about a function: its configuration and what was observed over a window.

Every observed figure is optional: ``None`` means *unknown*, which is never the same as zero.
A saved :class:`FleetSnapshot` (its JSON) is the snapshot file format documented in
``docs/snapshot.md``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
MAX_TIMEOUT_S = 900


class Frozen(BaseModel):
    """Base for domain values: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Architecture(StrEnum):
    X86_64 = "x86_64"
    ARM64 = "arm64"


class PackageType(StrEnum):
    ZIP = "Zip"
    IMAGE = "Image"


class LogFormat(StrEnum):
    TEXT = "Text"
    JSON = "JSON"


class LogLevel(StrEnum):
    """``LoggingConfig`` levels. AWS applies them only with the JSON log format."""

    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"


class TracingMode(StrEnum):
    ACTIVE = "Active"
    PASS_THROUGH = "PassThrough"


class LogGroupClass(StrEnum):
    """CloudWatch Logs log class. A group's class is chosen when it is created and cannot change."""

    STANDARD = "STANDARD"
    INFREQUENT_ACCESS = "INFREQUENT_ACCESS"
    DELIVERY = "DELIVERY"


class LogGroupInfo(Frozen):
    """The log group a function writes to, as ``logs:DescribeLogGroups`` reports it."""

    name: str = Field(min_length=1)
    # None: the group never expires its events (AWS omits ``retentionInDays`` then).
    retention_days: int | None = Field(default=None, ge=1)
    # None: AWS did not say (an emulator, or an old API version).
    log_class: LogGroupClass | None = None
    stored_bytes: int | None = Field(default=None, ge=0)
    # Other scanned functions writing to the same group: its figures cannot be split between
    # them, so per-function ingestion is unknown when this is not empty.
    shared_with: tuple[str, ...] = ()


class FigureSource(StrEnum):
    """Where a statistic was read: CloudWatch metrics over the whole window, or REPORT log
    lines (all of them through Logs Insights, or a sample)."""

    METRICS = "metrics"
    LOGS = "logs"


class EventSourceKind(StrEnum):
    SQS = "sqs"
    KINESIS = "kinesis"
    DYNAMODB = "dynamodb"
    KAFKA = "kafka"
    MQ = "mq"
    OTHER = "other"

    @property
    def is_stream(self) -> bool:
        return self in (EventSourceKind.KINESIS, EventSourceKind.DYNAMODB)


class InvokeSource(StrEnum):
    """Who invokes the function, when known (from triggers, policies or metrics)."""

    API_GATEWAY = "api_gateway"
    FUNCTION_URL = "function_url"
    ALB = "alb"
    EVENT_SOURCE_MAPPING = "event_source_mapping"
    SNS = "sns"
    S3 = "s3"
    EVENTBRIDGE = "eventbridge"
    SCHEDULE = "schedule"
    OTHER_ASYNC = "other_async"
    DIRECT = "direct"

    @property
    def is_async(self) -> bool:
        return self in (
            InvokeSource.SNS,
            InvokeSource.S3,
            InvokeSource.EVENTBRIDGE,
            InvokeSource.SCHEDULE,
            InvokeSource.OTHER_ASYNC,
        )

    @property
    def is_synchronous_request(self) -> bool:
        """A caller is waiting for the response (latency matters)."""
        return self in (InvokeSource.API_GATEWAY, InvokeSource.FUNCTION_URL, InvokeSource.ALB)


class Layer(Frozen):
    arn: str
    code_size_bytes: int | None = None
    # None: unknown. An empty tuple: the layer declares no architectures (treat as x86_64 only
    # for native code, unknown for pure code).
    compatible_architectures: tuple[Architecture, ...] | None = None
    compatible_runtimes: tuple[str, ...] | None = None


class NativeBinary(Frozen):
    """An ELF file found in the deployment package or a layer."""

    path: str
    machine: str = Field(description="ELF e_machine: 'x86_64', 'aarch64' or another name")
    kind: str = Field(default="shared_object", description="'shared_object' or 'executable'")


class RedrivePolicy(Frozen):
    dead_letter_target_arn: str
    max_receive_count: int


class EventSourceMapping(Frozen):
    uuid: str
    source_arn: str
    kind: EventSourceKind
    state: str = "Enabled"
    batch_size: int | None = None
    maximum_batching_window_s: int | None = None
    function_response_types: tuple[str, ...] = ()
    # Streams only. -1 or None from AWS both mean "retry until the record expires".
    maximum_retry_attempts: int | None = None
    bisect_batch_on_function_error: bool | None = None
    maximum_record_age_s: int | None = None
    on_failure_destination: str | None = None
    parallelization_factor: int | None = None
    # SQS only.
    maximum_concurrency: int | None = None
    queue_visibility_timeout_s: int | None = None
    queue_redrive_policy: RedrivePolicy | None = None
    queue_is_fifo: bool | None = None

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types

    @property
    def retries_forever(self) -> bool:
        return (
            self.kind.is_stream
            and (self.maximum_retry_attempts is None or self.maximum_retry_attempts < 0)
            and (self.maximum_record_age_s is None or self.maximum_record_age_s < 0)
        )


class AsyncInvokeConfig(Frozen):
    """The function's event invoke config; AWS defaults apply when none is set."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600
    on_success_destination: str | None = None
    on_failure_destination: str | None = None


# What Lambda does for a function without an event invoke config (one frozen value, shared).
AWS_DEFAULT_ASYNC_CONFIG = AsyncInvokeConfig()


class ProvisionedConcurrencyStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    READY = "READY"
    FAILED = "FAILED"


class ProvisionedConcurrencyConfig(Frozen):
    """Provisioned concurrency on one alias or version, as ``ListProvisionedConcurrencyConfigs``
    gives it. ``requested`` is what was configured (and what a change compares and sets);
    ``allocated`` is what is warm now (less while Lambda allocates, or after a failure)."""

    qualifier: str = Field(min_length=1)
    requested: int = Field(ge=0)
    allocated: int | None = Field(default=None, ge=0)
    status: ProvisionedConcurrencyStatus | None = None

    @property
    def billed(self) -> int:
        """The environments kept warm (and paid for): allocated, else requested."""
        return self.requested if self.allocated is None else self.allocated


class VpcConfig(Frozen):
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()


class ErrorTypeCount(Frozen):
    """How many log lines named one error type (an exception class, an AWS error code,
    ``HTTP 429`` or ``Task timed out``)."""

    name: str = Field(min_length=1)
    count: int = Field(ge=0)


class FunctionStats(Frozen):
    """Observed over ``window_days``. Every figure may be unknown (None).

    Figures are finite: an infinite duration (JSON allows ``Infinity``) would price as NaN
    and turn the whole report into invalid JSON, so it is refused at the door.

    Counts from CloudWatch metrics (``invocations``, ``errors``, ``throttles``) cover the whole
    window. Figures read from REPORT log lines (``timeouts``, ``out_of_memory``,
    ``cold_starts``, memory used, billed duration) cover ``log_sample_invocations`` invocations,
    which may be a sample; use the ``*_rate`` properties to compare them with traffic.
    """

    model_config = ConfigDict(allow_inf_nan=False)

    window_days: float = Field(gt=0)
    invocations: int | None = Field(default=None, ge=0)
    errors: int | None = Field(default=None, ge=0)
    throttles: int | None = Field(default=None, ge=0)

    duration_avg_ms: float | None = Field(default=None, ge=0)
    duration_p50_ms: float | None = Field(default=None, ge=0)
    duration_p90_ms: float | None = Field(default=None, ge=0)
    duration_p99_ms: float | None = Field(default=None, ge=0)
    duration_max_ms: float | None = Field(default=None, ge=0)
    # Where p50/p90/p99 came from (None: unknown or not said). CloudWatch has no percentiles
    # for some functions (or an emulator none at all); the scan then computes them from the
    # REPORT lines it read, which cover ``log_sample_invocations`` invocations.
    duration_percentiles_source: FigureSource | None = None

    log_sample_invocations: int | None = Field(default=None, ge=0)
    billed_duration_avg_ms: float | None = Field(default=None, ge=0)
    max_memory_used_mb: int | None = Field(default=None, ge=0)
    memory_used_p99_mb: int | None = Field(default=None, ge=0)
    timeouts: int | None = Field(default=None, ge=0)
    out_of_memory: int | None = Field(default=None, ge=0)
    cold_starts: int | None = Field(default=None, ge=0)
    init_duration_avg_ms: float | None = Field(default=None, ge=0)
    init_duration_max_ms: float | None = Field(default=None, ge=0)
    restore_duration_avg_ms: float | None = Field(default=None, ge=0)
    # Error types named in the function's log lines, most frequent first (at most a few, plus
    # every downstream-throttling type seen), counted over the same lines as
    # ``log_sample_invocations``. None: not read; (): read, none found.
    top_error_types: tuple[ErrorTypeCount, ...] | None = None

    async_events_received: int | None = Field(default=None, ge=0)
    async_events_dropped: int | None = Field(default=None, ge=0)
    async_event_age_max_ms: float | None = Field(default=None, ge=0)
    async_event_age_avg_ms: float | None = Field(default=None, ge=0)

    concurrent_executions_max: float | None = Field(default=None, ge=0)
    provisioned_concurrency_utilization_max: float | None = Field(default=None, ge=0)
    provisioned_concurrency_utilization_avg: float | None = Field(default=None, ge=0)
    iterator_age_max_ms: float | None = Field(default=None, ge=0)
    # Invocations over the 30 days ending with the window, read (in one batched metrics call)
    # only for functions with no invocations in a window shorter than that. None: not read.
    invocations_last_30_days: int | None = Field(default=None, ge=0)
    # AWS/Logs IncomingBytes of the function's log group over the window (uncompressed bytes
    # ingested). None: unknown, or the group is shared with other functions.
    log_ingested_bytes: int | None = Field(default=None, ge=0)

    @property
    def invocations_per_month(self) -> float | None:
        if self.invocations is None:
            return None
        return self.invocations / self.window_days * DAYS_PER_MONTH

    def _sample_rate(self, count: int | None) -> float | None:
        if count is None or not self.log_sample_invocations:
            return None
        return min(1.0, count / self.log_sample_invocations)

    @property
    def cold_start_rate(self) -> float | None:
        return self._sample_rate(self.cold_starts)

    @property
    def timeout_rate(self) -> float | None:
        return self._sample_rate(self.timeouts)

    @property
    def out_of_memory_rate(self) -> float | None:
        return self._sample_rate(self.out_of_memory)

    @property
    def error_rate(self) -> float | None:
        if self.errors is None or not self.invocations:
            return None
        return min(1.0, self.errors / self.invocations)


class FunctionSnapshot(Frozen):
    """One function: configuration as read from AWS plus observed statistics."""

    name: str = Field(min_length=1)
    arn: str
    account_id: str
    region: str
    runtime: str | None = Field(default=None, description="None for container images")
    architecture: Architecture = Architecture.X86_64
    memory_mb: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    timeout_s: int = Field(ge=1, le=MAX_TIMEOUT_S)
    ephemeral_storage_mb: int = Field(default=512, ge=512, le=10240)
    package_type: PackageType = PackageType.ZIP
    code_size_bytes: int | None = Field(default=None, ge=0)
    code_sha256: str | None = None
    handler: str | None = None
    last_modified: datetime | None = None
    revision_id: str | None = None
    layers: tuple[Layer, ...] = ()
    # None: the package was not scanned; () : scanned, no ELF files found.
    native_binaries: tuple[NativeBinary, ...] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    reserved_concurrency: int | None = Field(default=None, ge=0)
    # Provisioned concurrency per alias or version (None: not read; (): none configured).
    provisioned_concurrency_configs: tuple[ProvisionedConcurrencyConfig, ...] | None = None
    provisioned_concurrency: int | None = Field(
        default=None,
        ge=0,
        description="Allocated provisioned concurrency over all qualifiers (derived from "
        "provisioned_concurrency_configs when they are known)",
    )
    # The alias or version that holds the most provisioned concurrency, or where it would go
    # (the alias callers use) when there is none.
    provisioned_concurrency_qualifier: str | None = None
    event_source_mappings: tuple[EventSourceMapping, ...] = ()
    # None: the function has no event invoke config (AWS defaults: 2 retries, 6 h, no destination).
    async_config: AsyncInvokeConfig | None = None
    dead_letter_target_arn: str | None = None
    invoked_by: tuple[InvokeSource, ...] | None = None
    vpc: VpcConfig | None = None
    log_format: LogFormat = LogFormat.TEXT
    # ``LoggingConfig`` levels (None: not set, or unknown). System level WARN or above means the
    # function writes no REPORT lines.
    application_log_level: LogLevel | None = None
    system_log_level: LogLevel | None = None
    # Where the function logs (``LoggingConfig.LogGroup``); None: the default /aws/lambda/NAME.
    log_group: str | None = None
    tracing_mode: TracingMode | None = Field(
        default=None, description="X-Ray TracingConfig.Mode; None when unknown"
    )
    # None: the log group was not read (or does not exist yet).
    log_group_info: LogGroupInfo | None = None
    snap_start: bool = False
    cloudformation_stack: str | None = Field(
        default=None, description="Stack name when CloudFormation, SAM or CDK manages the function"
    )
    stats: FunctionStats | None = None

    @model_validator(mode="before")
    @classmethod
    def _provisioned_per_qualifier(cls, data: Any) -> Any:
        """Keep the per-qualifier configs and the totals in step. Snapshots written before
        configs existed carry only the total and one qualifier: read as that qualifier's."""
        if not isinstance(data, dict):
            return data
        configs = data.get("provisioned_concurrency_configs")
        total = data.get("provisioned_concurrency")
        qualifier = data.get("provisioned_concurrency_qualifier")
        if configs is None:
            if isinstance(total, int) and total > 0 and isinstance(qualifier, str) and qualifier:
                legacy = {"qualifier": qualifier, "requested": total, "allocated": total}
                return {**data, "provisioned_concurrency_configs": (legacy,)}
            if total == 0:
                return {**data, "provisioned_concurrency_configs": ()}
            return data
        if not isinstance(configs, list | tuple):
            return data  # the field's own validation says what is wrong
        parsed: list[ProvisionedConcurrencyConfig] = []
        for config in configs:
            if isinstance(config, dict):
                config = ProvisionedConcurrencyConfig.model_validate(config)
            if not isinstance(config, ProvisionedConcurrencyConfig):
                return data
            parsed.append(config)
        derived = sum(item.billed for item in parsed)
        if total is not None and total != derived:
            raise ValueError(
                f"provisioned_concurrency is {total} but provisioned_concurrency_configs add up "
                f"to {derived}"
            )
        largest = max(parsed, key=lambda item: item.billed, default=None)
        return {
            **data,
            "provisioned_concurrency_configs": tuple(parsed),
            "provisioned_concurrency": derived,
            "provisioned_concurrency_qualifier": qualifier
            or (largest.qualifier if largest is not None else None),
        }

    def provisioned_config(self, qualifier: str) -> ProvisionedConcurrencyConfig | None:
        """The provisioned concurrency configured on ``qualifier``, if any."""
        for config in self.provisioned_concurrency_configs or ():
            if config.qualifier == qualifier:
                return config
        return None

    @property
    def managed_by_cloudformation(self) -> bool:
        return self.cloudformation_stack is not None

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    @property
    def writes_report_lines(self) -> bool:
        """False when the system log level filters out REPORT lines (they are INFO)."""
        return self.system_log_level is None or self.system_log_level in (
            LogLevel.TRACE,
            LogLevel.DEBUG,
            LogLevel.INFO,
        )

    @property
    def effective_async_config(self) -> AsyncInvokeConfig:
        return self.async_config or AWS_DEFAULT_ASYNC_CONFIG

    @property
    def has_async_failure_handling(self) -> bool:
        return bool(
            self.effective_async_config.on_failure_destination or self.dead_letter_target_arn
        )

    @property
    def is_async_invoked(self) -> bool | None:
        """True when anything shows async invocations; None when nothing tells."""
        if self.stats is not None and self.stats.async_events_received:
            return True
        if self.invoked_by is not None:
            return any(source.is_async for source in self.invoked_by)
        if self.stats is not None and self.stats.async_events_received == 0:
            return False
        return None


class FleetSnapshot(Frozen):
    """Functions of one account and region (or several), collected at one time."""

    schema_version: int = 1
    collected_at: datetime
    window_start: datetime
    window_end: datetime
    account_id: str | None = None
    region: str | None = None
    functions: tuple[FunctionSnapshot, ...] = ()
    # Functions that could not be read: name -> one sentence saying why.
    errors: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _window_is_ordered(self) -> FleetSnapshot:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self

    @property
    def window_days(self) -> float:
        return (self.window_end - self.window_start).total_seconds() / 86400.0

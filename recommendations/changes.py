"""Typed configuration changes. Each knows its before, its after and its inverse (for undo).

A change names the function and the exact state it was computed from (``before``); appliers
refuse to act when the function no longer matches it. ``describe()`` is the one sentence a
person sees on a confirm dialog, so it states the exact change.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from recommendations.snapshot import (
    MAX_MEMORY_MB,
    MAX_TIMEOUT_S,
    MIN_MEMORY_MB,
    Architecture,
    Frozen,
    LogFormat,
    LogLevel,
    TracingMode,
)


class _ChangeBase(Frozen):
    function_name: str = Field(min_length=1)
    # IAM actions an applier needs for this kind of change; the deploy test checks they are
    # granted (with a condition) in template.yaml.
    iam_actions: ClassVar[tuple[str, ...]] = ()

    @property
    def setting(self) -> str:
        """What the change touches; two changes with the same setting conflict."""
        raise NotImplementedError


class MemoryChange(_ChangeBase):
    kind: Literal["memory"] = "memory"
    before: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    after: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionConfiguration",
    )

    @property
    def setting(self) -> str:
        return "memory"

    def inverse(self) -> MemoryChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return f"Set memory of {self.function_name} from {self.before} MB to {self.after} MB"


class TimeoutChange(_ChangeBase):
    kind: Literal["timeout"] = "timeout"
    before: int = Field(ge=1, le=MAX_TIMEOUT_S)
    after: int = Field(ge=1, le=MAX_TIMEOUT_S)
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionConfiguration",
    )

    @property
    def setting(self) -> str:
        return "timeout"

    def inverse(self) -> TimeoutChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return f"Set timeout of {self.function_name} from {self.before} s to {self.after} s"


# Lambda's /tmp: 512 MB are included, up to 10,240 MB can be configured (and are billed).
MIN_EPHEMERAL_STORAGE_MB = 512
MAX_EPHEMERAL_STORAGE_MB = 10240


class EphemeralStorageChange(_ChangeBase):
    kind: Literal["ephemeral_storage"] = "ephemeral_storage"
    before: int = Field(ge=MIN_EPHEMERAL_STORAGE_MB, le=MAX_EPHEMERAL_STORAGE_MB)
    after: int = Field(ge=MIN_EPHEMERAL_STORAGE_MB, le=MAX_EPHEMERAL_STORAGE_MB)
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionConfiguration",
    )

    @property
    def setting(self) -> str:
        return "ephemeral_storage"

    def inverse(self) -> EphemeralStorageChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return (
            f"Set ephemeral storage (/tmp) of {self.function_name} from {self.before} MB "
            f"to {self.after} MB"
        )


class ArchitectureChange(_ChangeBase):
    kind: Literal["architecture"] = "architecture"
    before: Architecture
    after: Architecture
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunction",
        "lambda:UpdateFunctionCode",
    )

    @property
    def setting(self) -> str:
        return "architecture"

    def inverse(self) -> ArchitectureChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return (
            f"Switch {self.function_name} from {self.before.value} to {self.after.value} "
            "(same code package re-deployed)"
        )


class EventSourceMappingSettings(Frozen):
    """The settings of a mapping that tunebot may change. ``None``: not applicable or unset."""

    batch_size: int | None = Field(default=None, ge=1, le=10000)
    maximum_batching_window_s: int | None = Field(default=None, ge=0, le=300)
    report_batch_item_failures: bool = False
    # Streams: None (or AWS's -1) means unlimited, "retry until the record expires".
    maximum_retry_attempts: int | None = None
    bisect_batch_on_function_error: bool | None = None
    on_failure_destination: str | None = None
    # Streams: -1 or 60..604800 (7 days); None (or -1) means unlimited.
    maximum_record_age_s: int | None = Field(default=None, ge=-1, le=604800)


# How describe() shows a setting's value when it is unset.
_UNSET_MEANS = {
    "maximum_retry_attempts": "unlimited",
    "maximum_record_age_s": "unlimited",
    "on_failure_destination": "none",
}


class EventSourceMappingChange(_ChangeBase):
    kind: Literal["event_source_mapping"] = "event_source_mapping"
    mapping_uuid: str
    source_arn: str
    before: EventSourceMappingSettings
    after: EventSourceMappingSettings
    # When set, the applier creates this encrypted SQS queue (if missing) and uses it as the
    # on-failure destination; ``after.on_failure_destination`` is then that queue's ARN.
    create_queue_name: str | None = None
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "sqs:CreateQueue",
        "sqs:GetQueueAttributes",
        "sqs:TagQueue",
    )

    @property
    def setting(self) -> str:
        return f"event_source_mapping:{self.mapping_uuid}"

    @property
    def source_name(self) -> str:
        """The queue, stream or table name, for people."""
        # arn:partition:service:region:account:resource; a DynamoDB stream's resource
        # (table/NAME/stream/2026-01-15T10:00:00.000) holds colons itself.
        resource = self.source_arn.split(":", 5)[-1]
        parts = resource.split("/")
        if len(parts) >= 2 and parts[0] in ("table", "stream"):
            return parts[1]
        return resource

    @property
    def changed_fields(self) -> tuple[str, ...]:
        before, after = self.before.model_dump(), self.after.model_dump()
        return tuple(name for name in before if before[name] != after[name])

    def inverse(self) -> EventSourceMappingChange:
        # Undo detaches a created destination; the queue (and any records in it) is kept.
        return self.model_copy(
            update={"before": self.after, "after": self.before, "create_queue_name": None}
        )

    def _show(self, name: str, *, after: bool) -> str:
        value = getattr(self.after if after else self.before, name)
        if name == "on_failure_destination" and after and self.create_queue_name:
            return f"a new encrypted SQS queue {self.create_queue_name}"
        if isinstance(value, bool):
            return "on" if value else "off"
        if value is None or (name in _UNSET_MEANS and value == -1):
            return _UNSET_MEANS.get(name, "unset")
        return str(value)

    def describe(self) -> str:
        parts = []
        for name in self.changed_fields:
            label = name.replace("_", " ")
            before, after = self._show(name, after=False), self._show(name, after=True)
            parts.append(f"{label} {before} → {after}")
        return f"On the {self.source_name} trigger of {self.function_name}: " + "; ".join(parts)


class AsyncSettings(Frozen):
    on_failure_destination: str | None = None
    maximum_retry_attempts: int = Field(default=2, ge=0, le=2)
    maximum_event_age_s: int = Field(default=21600, ge=60, le=21600)


class AsyncFailureDestinationChange(_ChangeBase):
    kind: Literal["async_failure_destination"] = "async_failure_destination"
    before: AsyncSettings
    after: AsyncSettings
    # When set, the applier creates this encrypted SQS queue (if missing) and uses it as the
    # destination; ``after.on_failure_destination`` is then that queue's ARN.
    create_queue_name: str | None = None
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:PutFunctionEventInvokeConfig",
        "sqs:CreateQueue",
        "sqs:GetQueueAttributes",
        "sqs:TagQueue",
    )

    @property
    def setting(self) -> str:
        return "async_config"

    def inverse(self) -> AsyncFailureDestinationChange:
        # Undo detaches the destination; the queue (and any messages in it) is kept.
        return self.model_copy(
            update={"before": self.after, "after": self.before, "create_queue_name": None}
        )

    def describe(self) -> str:
        target = self.after.on_failure_destination or "no destination"
        if self.create_queue_name:
            target = f"a new encrypted SQS queue {self.create_queue_name}"
        return (
            f"Send failed async events of {self.function_name} to {target} "
            f"(retries {self.after.maximum_retry_attempts}, "
            f"max event age {self.after.maximum_event_age_s} s)"
        )


class ReservedConcurrencyChange(_ChangeBase):
    kind: Literal["reserved_concurrency"] = "reserved_concurrency"
    before: int | None = Field(ge=0)
    after: int | None = Field(ge=0)
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
    )

    @property
    def setting(self) -> str:
        return "reserved_concurrency"

    def inverse(self) -> ReservedConcurrencyChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        def show(value: int | None) -> str:
            return "unreserved" if value is None else str(value)

        return (
            f"Set reserved concurrency of {self.function_name} from {show(self.before)} "
            f"to {show(self.after)}"
        )


class ProvisionedConcurrencyChange(_ChangeBase):
    kind: Literal["provisioned_concurrency"] = "provisioned_concurrency"
    qualifier: str = Field(min_length=1)
    before: int = Field(ge=0)
    after: int = Field(ge=0)
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetProvisionedConcurrencyConfig",
        "lambda:PutProvisionedConcurrencyConfig",
        "lambda:DeleteProvisionedConcurrencyConfig",
    )

    @property
    def setting(self) -> str:
        return f"provisioned_concurrency:{self.qualifier}"

    def inverse(self) -> ProvisionedConcurrencyChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return (
            f"Set provisioned concurrency of {self.function_name}:{self.qualifier} "
            f"from {self.before} to {self.after}"
        )


# The retention periods ``PutRetentionPolicy`` accepts, in days.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


class LoggingSettings(Frozen):
    """A function's ``LoggingConfig`` format and levels (levels apply with JSON only)."""

    log_format: LogFormat = LogFormat.TEXT
    application_log_level: LogLevel | None = None
    system_log_level: LogLevel | None = None

    def describe(self) -> str:
        if self.log_format is LogFormat.TEXT:
            return "Text format"
        levels = [
            f"{label} {level.value}"
            for label, level in (
                ("application logs", self.application_log_level),
                ("system logs", self.system_log_level),
            )
            if level is not None
        ]
        return "JSON format" + (f" ({', '.join(levels)})" if levels else "")


class LogLevelChange(_ChangeBase):
    """``UpdateFunctionConfiguration(LoggingConfig=...)``: the log format and levels. The log
    group the function writes to is kept as it is."""

    kind: Literal["log_level"] = "log_level"
    before: LoggingSettings
    after: LoggingSettings
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionConfiguration",
    )

    @property
    def setting(self) -> str:
        return "logging_config"

    def inverse(self) -> LogLevelChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return (
            f"Set logging of {self.function_name} from {self.before.describe()} "
            f"to {self.after.describe()}"
        )


class LogRetentionChange(_ChangeBase):
    """``PutRetentionPolicy`` on the function's log group; ``None`` is "never expire", which
    ``DeleteRetentionPolicy`` restores. Events deleted by a retention stay deleted after undo."""

    kind: Literal["log_retention"] = "log_retention"
    log_group: str = Field(min_length=1)
    before: int | None = Field(ge=1)
    after: int | None = Field(ge=1)
    iam_actions: ClassVar[tuple[str, ...]] = (
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
    )

    @field_validator("before", "after")
    @classmethod
    def _a_retention_aws_accepts(cls, days: int | None) -> int | None:
        if days is not None and days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts a retention of {LOG_RETENTION_DAYS} days")
        return days

    @property
    def setting(self) -> str:
        return f"log_retention:{self.log_group}"

    def inverse(self) -> LogRetentionChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        def show(days: int | None) -> str:
            return "never expire" if days is None else f"{days} days"

        return (
            f"Set retention of the log group {self.log_group} ({self.function_name}) from "
            f"{show(self.before)} to {show(self.after)}"
        )


class TracingChange(_ChangeBase):
    """``UpdateFunctionConfiguration(TracingConfig={"Mode": ...})``."""

    kind: Literal["tracing"] = "tracing"
    before: TracingMode
    after: TracingMode
    iam_actions: ClassVar[tuple[str, ...]] = (
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionConfiguration",
    )

    @property
    def setting(self) -> str:
        return "tracing"

    def inverse(self) -> TracingChange:
        return self.model_copy(update={"before": self.after, "after": self.before})

    def describe(self) -> str:
        return (
            f"Set X-Ray tracing of {self.function_name} from {self.before.value} "
            f"to {self.after.value}"
        )


Change = Annotated[
    MemoryChange
    | TimeoutChange
    | ArchitectureChange
    | EventSourceMappingChange
    | AsyncFailureDestinationChange
    | ReservedConcurrencyChange
    | ProvisionedConcurrencyChange
    | EphemeralStorageChange
    | LogLevelChange
    | LogRetentionChange
    | TracingChange,
    Field(discriminator="kind"),
]

CHANGE_TYPES: tuple[type[_ChangeBase], ...] = (
    MemoryChange,
    TimeoutChange,
    ArchitectureChange,
    EventSourceMappingChange,
    AsyncFailureDestinationChange,
    ReservedConcurrencyChange,
    ProvisionedConcurrencyChange,
    EphemeralStorageChange,
    LogLevelChange,
    LogRetentionChange,
    TracingChange,
)
